/**
 * NEWSLETTER_SECRET keys fingerprints, Message-IDs and unsubscribe tokens.
 * Required whenever real mail leaves (SMTP); the embedded outbox may use a
 * fixed development key, and says so, because nothing leaves the machine.
 *
 * Approval copies are keyed by a secret of their own, NEWSLETTER_APPROVAL_SECRET
 * (docs/design.md, "Trust boundary"): the approval environment is reached by
 * more jobs than the send, and with NEWSLETTER_SECRET a reader could mint valid
 * unsubscribe tokens and ledger fingerprints of the production send.
 *
 * A low layer of its own: the ledger (which tells a trial's ledger by the
 * development key), the send and the commands all read it (docs/design.md, "Layers").
 */
import { RefusedError } from "../errors.ts";

export const DEVELOPMENT_SECRET = "newsletter-development-key-NOT-SECRET";

export type SecretVariable = "NEWSLETTER_SECRET" | "NEWSLETTER_APPROVAL_SECRET";

export function resolveSecret(
  env: Readonly<Record<string, string | undefined>>,
  smtp: boolean,
  variable: SecretVariable = "NEWSLETTER_SECRET",
): { secret: string; development: boolean } {
  const s = env[variable];
  if (s !== undefined && s.length > 0) {
    if (s.length < 16) throw new RefusedError(`${variable} is shorter than 16 characters; use a long random value (e.g. \`openssl rand -hex 32\`)`);
    if (variable === "NEWSLETTER_APPROVAL_SECRET" && s === env.NEWSLETTER_SECRET) {
      throw new RefusedError("NEWSLETTER_APPROVAL_SECRET equals NEWSLETTER_SECRET: approval copies need a secret of their own, so the approval environment never holds the production key");
    }
    // The development key is public, and a ledger under it is taken for a trial's (ledger/fs-history.ts).
    if (smtp && s === DEVELOPMENT_SECRET) throw new RefusedError(`${variable} is the public development key; mail to a relay needs a secret of its own (e.g. \`openssl rand -hex 32\`)`);
    return { secret: s, development: false };
  }
  if (smtp) {
    throw new RefusedError(
      variable === "NEWSLETTER_SECRET"
        ? "NEWSLETTER_SECRET is not set: it is required for SMTP sends (it keys the ledger's fingerprints and the unsubscribe tokens)"
        : "NEWSLETTER_APPROVAL_SECRET is not set: approval copies by SMTP are keyed by a secret of their own (never NEWSLETTER_SECRET, the production send's)",
    );
  }
  return { secret: DEVELOPMENT_SECRET, development: true };
}
