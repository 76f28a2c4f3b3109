/**
 * The narrow port between the send loop and whatever carries bytes: SMTP
 * (nodemailer's pool) or the embedded outbox of .eml files.
 *
 * docs/design.md, "One recipient per message". The envelope has exactly
 * one `to` by type; there is no way to pass a list.
 *
 * It sits in the low `mail` layer, not in `transport`, because the guard (which
 * checks each envelope) and the send loop use it, and the transport adapters
 * implement it (docs/design.md, "Layers").
 */

export interface Envelope {
  /** MAIL FROM (RFC 5321 §4.1.1.2), the bounce address. */
  from: string;
  /** The single RCPT TO (RFC 5321 §4.1.1.3). */
  to: string;
}

/**
 * The outcome of one hand-over. Three kinds, told apart by `ok` and `inDoubt`:
 *
 * - Delivered: the server's final reply to the end of data was 2yz.
 * - NotDelivered: the server refused the message with a reply, or the
 *   transaction ended before the end of data was written: the message
 *   cannot have been accepted.
 * - InDoubt: the data was handed over completely and no final reply
 *   arrived: the message may or may not have been accepted.
 */
export type DeliveryResult = Delivered | NotDelivered | InDoubt;

export interface Delivered {
  ok: true;
  /** Server reply or file name, for logs; never holds an address in full. */
  response: string;
}

export interface NotDelivered {
  ok: false;
  inDoubt?: false;
  /** 5xx (RFC 5321 §4.2.1): do not retry. Otherwise (4xx, connection errors before the end of data): may retry. */
  permanent: boolean;
  /** SMTP reply code when the server gave one. */
  code?: number;
  /** Redacted description. */
  message: string;
  /**
   * When the relay pushed back rather than refused this message (docs/design.md,
   * "Sending and relay pushback"): "throttled" — it asks us to slow down
   * (450/451/421 4.7.x, "454 Throttling failure"); "connection" — the connection
   * failed or closed before this message's data was written, on every connection
   * tried; "auth" — the relay refused our credentials, so every message would
   * fail the same way. Absent: a verdict on this message.
   */
  pushback?: Pushback;
}

export type Pushback = "throttled" | "connection" | "auth";

/**
 * The data was handed over completely and no final reply arrived: the
 * message may or may not have been accepted. RFC 5321 §4.1.1.4: the reply
 * to the end of data is the only acknowledgement, and a server that has
 * sent none may still have taken responsibility for the message (RFC 1047:
 * a connection lost between the end of data and its reply leaves the
 * message queued at the server while the sender believes it failed). So
 * it is never retried: the recipient stays claimed in the ledger, i.e.
 * "in doubt", until an operator chooses `--resend-in-doubt`.
 * Never from a transport that cannot lose a reply (the outbox).
 */
export interface InDoubt {
  ok: false;
  inDoubt: true;
  /** Redacted description (what was lost: the connection, a timeout). */
  message: string;
}

/** What the transport may know about the bytes without parsing them. */
export interface DeliveryMeta {
  /** The Message-ID the bytes carry, without angle brackets (RFC 5322 §3.6.4). */
  messageId?: string;
}

export interface MailTransport {
  /** Human name for progress lines ("smtp://host:port", "outbox ./outbox"); holds no credentials. */
  readonly name: string;

  /**
   * Hand one composed message over. Resolves (never rejects) with the outcome;
   * never re-sends a message whose data was handed over (that is InDoubt);
   * a rejection means a bug, not a delivery failure. Safe to call
   * concurrently up to the transport's connection count.
   */
  deliver(envelope: Envelope, raw: Buffer, meta?: DeliveryMeta): Promise<DeliveryResult>;

  /** Close connections after in-flight deliveries settle. Idempotent. */
  close(): Promise<void>;

  /**
   * Prove, before anything is claimed, that a message could be handed over:
   * for SMTP one connection through the greeting, EHLO, STARTTLS and AUTH
   * (kept for the send). Rejects with a RefusedError whose message is one
   * line saying what the relay did. Absent: nothing to prove (the outbox).
   */
  preflight?(): Promise<void>;

  /**
   * Stop now: cut every connection; deliveries in flight settle at once (InDoubt
   * for those whose data was handed over without a final reply, NotDelivered for
   * the rest). Returns how many it leaves in doubt (at most: a transport that
   * cannot tell counts every delivery in flight). Idempotent.
   */
  abort?(): number;
}
