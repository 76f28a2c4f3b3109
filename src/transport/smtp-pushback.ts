/**
 * How our SMTP client (smtp-pipelined.ts) reads a relay's pushback on one
 * connection, and how it paces opening connections (docs/design.md, "Sending
 * and relay pushback"). Pure: the clock is passed in.
 */
import type { SmtpError } from "./smtp-conn.ts";
import { isThrottling } from "./smtp-result.ts";

/** A message refused by one connection's pushback (421, a per-connection 452, a lost connection) tries this many more. */
export const MAX_MOVES = 3;
/** After a connection could not be opened, the next waits 250 ms, doubling, at most 2 s (no storm against a sick relay). */
export const OPEN_PAUSE_MS = 250;
export const OPEN_PAUSE_MAX_MS = 2000;
/** Credentials refused this many times (once, then on a fresh connection): every message fails so, none connects. */
export const AUTH_ATTEMPTS = 2;

/**
 * What `err`, for a message whose data did not complete on a connection that
 * had `accepted` messages accepted, says:
 * - "none": a verdict on this message (or throttling, or credentials refused, or
 *   in doubt past its end of data): the caller gets it;
 * - "moved": this connection's pushback (a 421 that is not throttling, the
 *   connection lost or closed): the server did not take the message, another
 *   connection may;
 * - "limit": as "moved", and the connection is at its per-connection limit: a
 *   452 after messages it carried (RFC 5321 §4.5.3.1.10 lets a server refuse
 *   "too many recipients"; relays apply it per connection). A 452 on a fresh
 *   connection is a verdict.
 */
export function connectionPushback(err: unknown, accepted: number): "none" | "moved" | "limit" {
  const e = (typeof err === "object" && err !== null ? err : {}) as Partial<SmtpError>;
  if (e.endOfDataSent === true || e.code === "EAUTH") return "none";
  const code = e.responseCode;
  if (code !== undefined && isThrottling(code, e.response ?? "")) return "none"; // the caller slows down
  if (code === 452 && accepted > 0) return "limit";
  const lost = code === undefined && (e.code === "ECONNECTION" || e.code === "ESOCKET" || e.code === "ETIMEDOUT" || e.code === "EPROTOCOL");
  return lost || code === 421 ? "moved" : "none";
}

/**
 * When the pool may open another connection. Until one connection got through
 * the handshake (the preflight's, usually), and while credentials are being
 * retried, one opens at a time: a wrong password costs two AUTHs, not one per
 * connection (providers lock accounts after a few). After a failed open the
 * next waits (OPEN_PAUSE_MS doubling to OPEN_PAUSE_MAX_MS).
 */
export class OpenPacing {
  private proven = false;
  private failures = 0;
  private authFailures = 0;
  private nextOpenAt = 0;
  /** Credentials refused AUTH_ATTEMPTS times: the error every waiting message fails with. */
  refusal: unknown = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** May one more connection start opening while `opening` are? (The pool checks its size itself.) */
  mayOpen(opening: number): boolean {
    return !((!this.proven || this.authFailures > 0) && opening > 0);
  }

  /** Milliseconds to wait before the next open (≤ 0: now). */
  waitMs(): number {
    return this.nextOpenAt - this.now();
  }

  /** A connection got through the handshake outside the pool (the preflight). */
  proved(): void {
    this.proven = true;
  }

  /** A connection the pool opened got through the handshake: the pauses and the credential retry are over. */
  opened(): void {
    this.proven = true;
    this.failures = 0;
    this.nextOpenAt = 0;
    this.authFailures = 0;
  }

  /**
   * A connection could not be opened. "retry": credentials refused once, the
   * message waits for one more try on a fresh connection. "fail": the message
   * fails with `err` — a relay that refuses connections refuses the next one
   * too, and the caller retries with its own backoff (mail/port.ts pushback
   * "connection"); credentials refused twice also set `refusal`.
   */
  failedToOpen(err: unknown): "retry" | "fail" {
    this.failures++;
    this.nextOpenAt = this.now() + Math.min(OPEN_PAUSE_MAX_MS, OPEN_PAUSE_MS * 2 ** (this.failures - 1));
    if ((err as SmtpError | null)?.code !== "EAUTH") return "fail";
    if (++this.authFailures < AUTH_ATTEMPTS) return "retry";
    this.refusal = err;
    return "fail";
  }
}
