/**
 * NEWSLETTER_SECRET keys fingerprints, Message-IDs and unsubscribe tokens.
 * Required whenever real mail leaves (SMTP); the embedded outbox may use a
 * fixed development key, and says so, because nothing leaves the machine.
 */
import { RefusedError } from "../errors.ts";

export const DEVELOPMENT_SECRET = "newsletter-development-key-NOT-SECRET";

export function resolveSecret(env: Readonly<Record<string, string | undefined>>, smtp: boolean): { secret: string; development: boolean } {
  const s = env.NEWSLETTER_SECRET;
  if (s !== undefined && s.length > 0) {
    if (s.length < 16) throw new RefusedError("NEWSLETTER_SECRET is shorter than 16 characters; use a long random value (e.g. `openssl rand -hex 32`)");
    return { secret: s, development: false };
  }
  if (smtp) {
    throw new RefusedError("NEWSLETTER_SECRET is not set: it is required for SMTP sends (it keys the ledger's fingerprints and the unsubscribe tokens)");
  }
  return { secret: DEVELOPMENT_SECRET, development: true };
}
