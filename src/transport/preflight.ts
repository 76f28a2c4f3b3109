/**
 * The relay proved before the first claim (docs/design.md, "Sending and relay
 * pushback"): one connection through the greeting, EHLO, STARTTLS and AUTH.
 * A relay that cannot be reached or refuses us gives one clear line and exit
 * 1, with nothing claimed — rather than a claim per recipient, each failed
 * the same way, until the circuit breaker trips.
 *
 * Retried: a refusal that may pass (a busy greeting, a reset, a timeout), up
 * to PREFLIGHT_ATTEMPTS, waiting 0.5, 1, 2 s. Credentials: at most one retry,
 * on a fresh connection (a provider locks an account after a few failed
 * AUTHs). A certificate the client does not trust is not retried.
 */
import { RefusedError } from "../errors.ts";
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
import { clean } from "./smtp-result.ts";

const PREFLIGHT_ATTEMPTS = 4;
const AUTH_ATTEMPTS = 2;
const FIRST_WAIT_MS = 500;

interface ErrorLike {
  code?: unknown;
  originalCode?: unknown;
  message?: unknown;
  response?: unknown;
}

/** Runs `open` until it resolves; throws a RefusedError naming what the relay did. */
export async function provePreflight(display: string, secrets: readonly string[], open: () => Promise<void>): Promise<void> {
  let authTries = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      await open();
      return;
    } catch (err) {
      const e = (typeof err === "object" && err !== null ? err : { message: String(err) }) as ErrorLike;
      const auth = e.code === "EAUTH";
      if (auth) authTries++;
      const final = auth ? authTries >= AUTH_ATTEMPTS : e.code === "ETLS" || attempt >= PREFLIGHT_ATTEMPTS;
      if (final) throw new RefusedError(preflightLine(display, e, secrets), { cause: err });
      await sleep(auth ? 0 : FIRST_WAIT_MS * 2 ** (attempt - 1));
    }
  }
}

/** One line: what failed, and what to do. Credentials and addresses scrubbed. */
export function preflightLine(display: string, e: ErrorLike, secrets: readonly string[]): string {
  const text = clean(typeof e.response === "string" ? e.response : typeof e.message === "string" ? e.message : "unknown error", secrets);
  const original = typeof e.originalCode === "string" ? ` (${e.originalCode})` : "";
  const what =
    e.code === "EAUTH"
      ? `the relay refused the credentials in NEWSLETTER_SMTP_URL: ${text}`
      : e.code === "ETLS"
        ? `TLS with the relay failed${original}: ${text} (a relay with a private CA: see NEWSLETTER_SMTP_CA_FILE in the README)`
        : e.code === "ESOCKET" || e.code === "ECONNECTION" || e.code === "ETIMEDOUT"
          ? `cannot connect to the relay${original}: ${text}`
          : `the relay refused the session: ${text}`;
  return `cannot send via ${display}: ${what}; nothing was claimed or sent`;
}
