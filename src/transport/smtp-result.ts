/**
 * nodemailer outcome → DeliveryResult. Pure.
 *
 * | what happened                                           | permanent | why |
 * | ------------------------------------------------------- | --------- | --- |
 * | 5yz to MAIL FROM / RCPT TO / DATA (EENVELOPE, EMESSAGE) | yes       | RFC 5321 §4.2.1: "5yz Permanent Negative Completion" |
 * | 503 (bad sequence of commands)                          | no        | RFC 5321 §4.2.4: a session-state error, not a verdict on the message |
 * | 4yz, including 421 "closing transmission channel"       | no        | RFC 5321 §4.2.1: "4yz Transient Negative Completion" |
 * | 5yz outside the transaction (EAUTH 535, a 554 greeting) | no        | the server refused us, not this recipient: marking every recipient permanently failed would skip them all on the re-run after the fix; the caller's circuit breaker stops the send |
 * | refused by nodemailer before sending (invalid address, over the server's SIZE, RFC 1870 §6.1) | yes | the same message fails the same way again |
 * | connection errors: ECONNECTION, ESOCKET (ECONNREFUSED, ECONNRESET, EPIPE), ETIMEDOUT (connect, greeting, idle), EPROTOCOL, EDNS, ETLS, EREQUIRETLS, pool closed | no | the message may go through on another connection |
 * | any error without a reply once the end of data was written (`endOfDataSent`: lost connection, reset, timeout, a garbled reply) | in doubt | RFC 5321 §4.1.1.4: the reply to the end of data is the only acknowledgement; without it the server may have queued the message (RFC 1047). Never retried |
 *
 * A reply to the end of data (4yz, 5yz, even 421) is a real answer and keeps
 * its meaning above: the server says it did not take the message.
 *
 * Every text passes `redact()` and a literal scrub of the envelope addresses
 * and credentials: servers quote the recipient in their replies
 * ("550 5.1.1 <taro@example.net>: Recipient address rejected").
 */
import { mask } from "../address/mask.ts";
import { redact } from "../address/redact.ts";
import type { InDoubt, NotDelivered, Pushback } from "../mail/port.ts";

/** The fields of nodemailer's NodemailerError we read (errors.d.ts). */
export interface SmtpErrorLike {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
  originalCode?: unknown;
  /** Set by our client (smtp-conn.ts): the end of data was written to the socket before the error. */
  endOfDataSent?: unknown;
  /** The server's reply, all lines (nodemailer and our client both set it). */
  response?: unknown;
}

/** Literal strings to remove from any text we return (envelope addresses, credentials). */
export type Secrets = readonly string[];

const MAX_TEXT = 300;
const MESSAGE_SCOPED = new Set(["EENVELOPE", "EMESSAGE"]);

/**
 * `opts.endOfDataSent`: the caller knows the message's end of data was handed
 * to the connection before `err` (nodemailer's adapter, smtp.ts); our client
 * marks its errors itself (`endOfDataSent` on the error).
 */
export function failureFromError(err: unknown, secrets: Secrets, opts: { endOfDataSent?: boolean } = {}): NotDelivered | InDoubt {
  const e: SmtpErrorLike = typeof err === "object" && err !== null ? (err as SmtpErrorLike) : { message: String(err) };
  const code = typeof e.code === "string" ? e.code : undefined;
  const responseCode = typeof e.responseCode === "number" && Number.isInteger(e.responseCode) ? e.responseCode : undefined;
  const command = typeof e.command === "string" ? e.command : undefined;
  const original = typeof e.originalCode === "string" ? e.originalCode : undefined;

  const messageScoped = code !== undefined && MESSAGE_SCOPED.has(code);
  const permanent =
    responseCode !== undefined
      ? messageScoped && responseCode >= 500 && responseCode < 600 && responseCode !== 503
      : messageScoped;

  const label = [code ?? "ERROR", original && original !== code ? `(${original})` : "", command ? `[${command}]` : ""]
    .filter(Boolean)
    .join(" ");
  const message = clean(`${label}: ${typeof e.message === "string" ? e.message : String(e.message)}`, secrets);
  const endOfDataSent = opts.endOfDataSent === true || e.endOfDataSent === true;
  if (endOfDataSent && responseCode === undefined) {
    return { ok: false, inDoubt: true, message: clean(`no reply to the end of data, the server may have accepted the message: ${message}`, secrets) };
  }
  const response = typeof e.response === "string" ? e.response : typeof e.message === "string" ? e.message : "";
  const pushback = pushbackOf(code, responseCode, response);
  return { ok: false, permanent: permanent && pushback === undefined, ...(responseCode !== undefined ? { code: responseCode } : {}), message, ...(pushback ? { pushback } : {}) };
}

const CONNECTION_CODES = new Set(["ECONNECTION", "ESOCKET", "ETIMEDOUT", "EPROTOCOL", "ETLS", "EDNS"]);

/**
 * Relay pushback (docs/design.md, "Sending and relay pushback"), or undefined
 * for a verdict on the message. Throttling: a 421/450/451/454 with the
 * enhanced status class 4.7 (RFC 3463 §3.8 "Security or Policy Status", which
 * Postfix's anvil "450 4.7.1", Microsoft 365's "451 4.7.500" and Gmail's
 * "421-4.7.28" use), or one whose text says so (SES: "454 Throttling failure:
 * Maximum sending rate exceeded"). Authentication: EAUTH, or 535 / 534 / 530
 * (RFC 4954 §6) outside a transaction.
 */
export function pushbackOf(code: string | undefined, responseCode: number | undefined, response: string): Pushback | undefined {
  if (code === "EAUTH" || (code !== "EENVELOPE" && code !== "EMESSAGE" && (responseCode === 535 || responseCode === 534))) return "auth";
  if (responseCode !== undefined && isThrottling(responseCode, response)) return "throttled";
  if (code !== undefined && CONNECTION_CODES.has(code)) return "connection";
  return undefined;
}

const THROTTLE_CODES = new Set([421, 450, 451, 454]);
const THROTTLE_TEXT = /throttl|rate limit|rate exceeded|too much mail|sending rate|slow down/i;

export function isThrottling(responseCode: number, response: string): boolean {
  if (!THROTTLE_CODES.has(responseCode)) return false;
  return /(?:^|\n)\d{3}[ -]4\.7\.\d{1,3}\b/.test(response) || THROTTLE_TEXT.test(response);
}

export function successResponse(info: { response?: unknown }, secrets: Secrets): string {
  return clean(typeof info.response === "string" ? info.response : "accepted", secrets);
}

/** Scrub literals, then mask anything address-shaped, then bound the length. */
export function clean(text: string, secrets: Secrets): string {
  let out = text.replace(/[\r\n]+/g, " ");
  for (const s of secrets) {
    if (!s || (s.length < 4 && !s.includes("@"))) continue; // a short password: removing it would mangle the text
    out = replaceAllInsensitive(out, s, s.includes("@") ? mask(s) : "***");
  }
  out = redact(out);
  return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT - 1)}…` : out;
}

function replaceAllInsensitive(text: string, needle: string, by: string): string {
  // Every reply of a successful send goes through here: skip compiling a RegExp when no match is
  // possible. "@" (or another ASCII non-letter) has no case variant, so a match needs it in the text.
  const anchor = needle.includes("@") ? "@" : /[\x00-\x40\x5b-\x60\x7b-\x7f]/.exec(needle)?.[0];
  if (anchor !== undefined && !text.includes(anchor)) return text;
  const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text.replace(new RegExp(escaped, "giu"), by);
}
