/**
 * Hands finished message bytes straight to nodemailer's SMTP pool.
 *
 * `sendMail({ raw, envelope })` wraps every message in a MailMessage, a
 * MailComposer and a MimeNode (random boundary bytes, address parsing, an
 * AbortController and a stream pipeline per message) before the pool sees
 * it: as much CPU a message as composing and guarding it. The
 * pool's own entry point is nodemailer's transport contract, `send(mail,
 * callback)`, reading from `mail` only `message.getEnvelope()`,
 * `message.messageId()`, `message.getHeader("message-id")`,
 * `message.createReadStream()` and `data` (dsn, signal, requireTLS...:
 * none here). The same pool, connections, pipelining (RFC 2920),
 * dot-stuffing (RFC 5321 §4.5.2), retries of never-started messages and
 * error objects: only the wrapping is skipped. Checked against nodemailer
 * 10.6.1 (smtp-pool/index.js, smtp-pool/pool-resource.js).
 *
 * Only for what needs no rewriting: a printable-ASCII envelope (no SMTPUTF8,
 * RFC 6531, and no IDN to punycode) and a Message-ID; anything else takes
 * sendMail (smtp.ts decides).
 */
import { Readable } from "node:stream";
import type { Envelope } from "../mail/port.ts";
import { PRINTABLE_ASCII } from "./smtp-policy.ts";

/** What the pool calls back with (nodemailer's SentMessageInfo for SMTP). */
export interface RawSentInfo {
  accepted: unknown[];
  rejected: unknown[];
  response?: unknown;
}

interface PoolLike {
  send(mail: unknown, callback: (err: Error | null, info: RawSentInfo) => void): unknown;
}

/** The pool behind a pooled nodemailer transporter, when it has the expected entry point. */
export function rawPoolOf(mailer: unknown): PoolLike | null {
  const pool = (mailer as { transporter?: { send?: unknown } } | null)?.transporter;
  return pool && typeof pool.send === "function" ? (pool as PoolLike) : null;
}

export function canSendRaw(envelope: Envelope, messageId: string | undefined): messageId is string {
  return messageId !== undefined && PRINTABLE_ASCII.test(envelope.from) && PRINTABLE_ASCII.test(envelope.to);
}

/** One message: the bytes as they are, to the one envelope recipient (docs/design.md, "One recipient per message"). */
export function sendRaw(pool: PoolLike, envelope: Envelope, raw: Buffer, messageId: string): Promise<RawSentInfo> {
  const id = `<${messageId}>`;
  const mail = {
    data: {},
    message: {
      getEnvelope: () => ({ from: envelope.from, to: [envelope.to] }),
      messageId: () => id,
      getHeader: (key: string) => (key.toLowerCase() === "message-id" ? id : undefined),
      // A fresh stream each call: the pool may ask again when it re-queues a message no byte of which was read.
      createReadStream: () => bufferStream(raw),
    },
  };
  return new Promise((resolve, reject) => {
    pool.send(mail, (err, info) => (err ? reject(err) : resolve(info)));
  });
}

function bufferStream(raw: Buffer): Readable {
  let done = false;
  return new Readable({
    read() {
      if (done) return;
      done = true;
      this.push(raw);
      this.push(null);
    },
  });
}
