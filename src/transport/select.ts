/**
 * Which transport a command uses (README.md, "Sending", the variables):
 *
 * | purpose | first                    | then                  | else   |
 * | ------- | ------------------------ | --------------------- | ------ |
 * | send    | NEWSLETTER_SMTP_URL      | —                     | outbox |
 * | test    | NEWSLETTER_TEST_SMTP_URL | NEWSLETTER_SMTP_URL   | outbox |
 *
 * A variable that is empty or only blanks counts as unset: GitHub Actions
 * expands a secret that does not exist to "" rather than leaving it out.
 * A real send never falls back to the test server's URL.
 */
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { UsageError } from "../errors.ts";
import type { MailTransport } from "../mail/port.ts";
import { createOutboxTransport } from "./outbox.ts";
import { createPipelinedSmtpTransport } from "./smtp-pipelined.ts";
import { createLazySmtpTransport } from "./smtp-lazy.ts";
import type { SmtpTransportOptions } from "./smtp-policy.ts";

export type TransportPurpose = "send" | "test";

export const SMTP_URL_VAR = "NEWSLETTER_SMTP_URL";
export const TEST_SMTP_URL_VAR = "NEWSLETTER_TEST_SMTP_URL";
/**
 * Which SMTP client: "pipelined" (default, smtp-pipelined.ts: our own, for
 * finished bytes) or "nodemailer" (smtp.ts: nodemailer's pool), kept as a
 * way back should a relay disagree with ours.
 */
export const SMTP_CLIENT_VAR = "NEWSLETTER_SMTP_CLIENT";
/**
 * A PEM file of certificate authorities to trust for the relay, in addition to
 * Node's own (a private relay's internal CA). Node's NODE_EXTRA_CA_CERTS works
 * too, but only when set before the process starts; this one is read per send.
 */
export const SMTP_CA_FILE_VAR = "NEWSLETTER_SMTP_CA_FILE";
type UrlVar = typeof SMTP_URL_VAR | typeof TEST_SMTP_URL_VAR;

/** The decision alone, without the URL (it may hold a password): for messages and tests. */
export type TransportChoice = { kind: "smtp"; variable: UrlVar } | { kind: "outbox"; dir: string };

export type Env = Readonly<Record<string, string | undefined>>;

export interface SelectOptions extends Omit<SmtpTransportOptions, "label"> {
  /** The embedded default's folder, used when no SMTP URL is set. */
  outboxDir: string;
}

export function chooseTransport(env: Env, purpose: TransportPurpose, outboxDir: string): TransportChoice {
  const order: UrlVar[] = purpose === "test" ? [TEST_SMTP_URL_VAR, SMTP_URL_VAR] : [SMTP_URL_VAR];
  for (const variable of order) {
    if (isSet(env[variable])) return { kind: "smtp", variable };
  }
  return { kind: "outbox", dir: outboxDir };
}

/** Throws UsageError (exit 2) for a malformed URL; the message names the variable, never its value. */
export function createTransportFromEnv(env: Env, purpose: TransportPurpose, opts: SelectOptions): MailTransport {
  const choice = chooseTransport(env, purpose, opts.outboxDir);
  if (choice.kind === "outbox") return createOutboxTransport(choice.dir);
  const { outboxDir: _unused, ...smtpOpts } = opts;
  const client = env[SMTP_CLIENT_VAR]?.trim().toLowerCase() || "pipelined";
  if (client !== "pipelined" && client !== "nodemailer") {
    throw new UsageError(`${SMTP_CLIENT_VAR} must be "pipelined" or "nodemailer"`);
  }
  const create = client === "nodemailer" ? createLazySmtpTransport : createPipelinedSmtpTransport;
  const ca = trustedCas(env[SMTP_CA_FILE_VAR]);
  const tls = ca ? { ...smtpOpts.tls, ca } : smtpOpts.tls;
  return create(env[choice.variable] ?? "", { ...smtpOpts, ...(tls ? { tls } : {}), label: choice.variable });
}

function isSet(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== "";
}

/** Node's roots plus the file's certificates (a `ca` option replaces the roots, so both are given). */
function trustedCas(file: string | undefined): string[] | undefined {
  if (!isSet(file)) return undefined;
  let pem: string;
  try {
    pem = readFileSync(file.trim(), "utf8");
  } catch (e) {
    throw new UsageError(`${SMTP_CA_FILE_VAR}: cannot read the CA file (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new UsageError(`${SMTP_CA_FILE_VAR}: the file holds no PEM certificate`);
  return [...rootCertificates, pem];
}
