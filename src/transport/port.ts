/**
 * The narrow port between the send loop and whatever carries bytes: SMTP
 * (nodemailer's pool) or the embedded outbox of .eml files.
 *
 * DESIGN.md invariant 1: one recipient per message. The envelope has exactly
 * one `to` by type; there is no way to pass a list.
 */

export interface Envelope {
  /** MAIL FROM (RFC 5321 §4.1.1.2), the bounce address. */
  from: string;
  /** The single RCPT TO (RFC 5321 §4.1.1.3). */
  to: string;
}

export type DeliveryResult =
  | { ok: true; /** Server reply or file name, for logs; never holds an address in full. */ response: string }
  | {
      ok: false;
      /** 5xx (RFC 5321 §4.2.1): do not retry. Otherwise (4xx, connection errors): may retry. */
      permanent: boolean;
      /** SMTP reply code when the server gave one. */
      code?: number;
      /** Redacted description. */
      message: string;
    };

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
   * a rejection means a bug, not a delivery failure. Safe to call
   * concurrently up to the transport's connection count.
   */
  deliver(envelope: Envelope, raw: Buffer, meta?: DeliveryMeta): Promise<DeliveryResult>;

  /** Close connections after in-flight deliveries settle. Idempotent. */
  close(): Promise<void>;
}
