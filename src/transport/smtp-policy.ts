/**
 * What both SMTP clients share — our pipelined one (smtp-pipelined.ts) and
 * nodemailer's pool (smtp.ts, loaded by smtp-lazy.ts): their options, the
 * limits they apply, and the envelope rule. One home, so the two cannot drift
 * apart (docs/design.md, "Sending and relay pushback"). Pure.
 */
import { UsageError } from "../errors.ts";
import type { NotDelivered } from "../mail/port.ts";
import type { Timeouts } from "./smtp-conn.ts";

export interface SmtpTransportOptions {
  /** Pool size (nodemailer `maxConnections`). */
  connections: number;
  /** `ca`: the certificate authorities to trust (Node's roots included), when a private CA is added. */
  tls?: { rejectUnauthorized?: boolean; servername?: string; ca?: string[] };
  /** EHLO name (RFC 5321 §4.1.1.1); nodemailer defaults to the host name. */
  name?: string;
  /** Label for URL errors, e.g. the environment variable it came from. */
  label?: string;
  /** Our client's waits (smtp-conn.ts DEFAULT_TIMEOUTS); tests shorten them. */
  timeouts?: Partial<Timeouts>;
}

/**
 * A connection is replaced after this many messages (our client: fewer once a
 * relay shows its own limit). RFC 5321 sets no limit per session, but relays do
 * (Exchange Online, some ESPs); reconnecting every 1,000 costs one handshake
 * per 1,000 messages.
 */
export const MAX_MESSAGES_PER_CONNECTION = 1000;

/** close(): how long to let in-flight deliveries settle before cutting the connections. */
export const CLOSE_GRACE_MS = 15_000;

/** One bare address, nothing a parser could split into two (docs/design.md, "One recipient per message"). */
export const BARE_ADDRESS = /^[^\s\p{Cc}@,;:<>"'()[\]\\]+@[^\s\p{Cc}@,;:<>"'()[\]\\]+$/u;

/** An envelope address our client and smtp-raw.ts send as they are; anything else (SMTPUTF8, RFC 6531; IDN) needs nodemailer's sendMail. */
export const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/** Throws a UsageError (exit 2) unless `n` is a positive integer. */
export function checkConnections(n: unknown): void {
  if (!Number.isInteger(n) || (n as number) < 1) {
    throw new UsageError(`connections must be a positive integer, got ${String(n)}`);
  }
}

/** Is each envelope address one bare address (a string, nothing a parser could split)? */
export function isBareEnvelope(envelope: { from: unknown; to: unknown }): boolean {
  const { from, to } = envelope;
  return typeof to === "string" && typeof from === "string" && BARE_ADDRESS.test(to) && BARE_ADDRESS.test(from);
}

/** The TLS options both clients pass on: verification on unless told otherwise. */
export function tlsOptionsOf(tls: SmtpTransportOptions["tls"]): { rejectUnauthorized: boolean; servername?: string; ca?: string[] } {
  return {
    rejectUnauthorized: tls?.rejectUnauthorized ?? true,
    ...(tls?.servername ? { servername: tls.servername } : {}),
    ...(tls?.ca ? { ca: tls.ca } : {}),
  };
}

/** The result of a delivery asked of (or left in) a transport that is closed: never started, retryable. */
export function transportClosed(): NotDelivered {
  return { ok: false, permanent: false, message: "transport is closed" };
}
