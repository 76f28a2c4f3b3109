/**
 * MailTransport over nodemailer's pooled SMTP transport (a thin adapter).
 *
 * nodemailer 10.6.1 ships its own types (dist/esm/*.d.ts); no local
 * declaration is needed. URL and TLS policy: ./smtp-url.ts. Error mapping:
 * ./smtp-result.ts.
 *
 * Duplicates: nodemailer's pool re-queues a message only when its connection
 * closed before a byte of it was read (pool-resource.js, `readableDidRead ===
 * false`) or before the greeting, so it never sends the same message twice on
 * its own. A connection lost after the final "." is reported as transient; the
 * server may still have taken the message (RFC 5321 §4.1.1.4 puts the
 * responsibility on the reply that never came) — the ledger's "in doubt".
 */
import nodemailer from "nodemailer";
import { UsageError } from "../errors.ts";
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "./port.ts";
import { parseSmtpUrl } from "./smtp-url.ts";
import { clean, failureFromError, successResponse } from "./smtp-result.ts";
import { canSendRaw, rawPoolOf, sendRaw } from "./smtp-raw.ts";

export interface SmtpTransportOptions {
  /** Pool size (nodemailer `maxConnections`). */
  connections: number;
  tls?: { rejectUnauthorized?: boolean; servername?: string };
  /** EHLO name (RFC 5321 §4.1.1.1); nodemailer defaults to the host name. */
  name?: string;
  /** Label for URL errors, e.g. the environment variable it came from. */
  label?: string;
}

/**
 * A connection is replaced after this many messages. RFC 5321 sets no limit per
 * session, but relays do (Exchange Online, some ESPs); reconnecting every 1,000
 * costs one handshake per 1,000 messages.
 */
const MAX_MESSAGES_PER_CONNECTION = 1000;
/** TCP connect; nodemailer's default is 2 minutes, too long for a run someone is watching. */
const CONNECTION_TIMEOUT_MS = 30_000;
/** RFC 5321 §4.5.3.2.1 suggests 5 minutes for the greeting; nodemailer uses 30 s. We keep 30 s. */
const GREETING_TIMEOUT_MS = 30_000;
/**
 * Inactivity on an open connection. RFC 5321 §4.5.3.2 suggests 5 minutes per
 * command and 10 for the reply to the final "."; a shorter wait turns slow
 * acceptances into "in doubt" duplicates, so we stay at 5 minutes.
 */
const SOCKET_TIMEOUT_MS = 5 * 60_000;
/** close(): how long to let in-flight deliveries settle before cutting the connections. */
const CLOSE_GRACE_MS = 15_000;

/** A msg-id without brackets (RFC 5322 §3.6.4), nothing that could fold or end a header. */
const MESSAGE_ID = /^[\x21-\x3b\x3d\x3f-\x7e]{1,250}$/;

/** One bare address, nothing a parser could split into two (invariant 1). */
const BARE_ADDRESS = /^[^\s\p{Cc}@,;:<>"'()[\]\\]+@[^\s\p{Cc}@,;:<>"'()[\]\\]+$/u;

export function createSmtpTransport(url: string, opts: SmtpTransportOptions): MailTransport {
  const ep = parseSmtpUrl(url, opts.label);
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new UsageError(`connections must be a positive integer, got ${String(opts.connections)}`);
  }
  const credentials = ep.auth ? [ep.auth.pass, ep.auth.user] : [];

  const mailer = nodemailer.createTransport({
    pool: true,
    host: ep.host,
    port: ep.port,
    secure: ep.secure,
    requireTLS: ep.requireTLS,
    ignoreTLS: false,
    opportunisticTLS: false,
    ...(ep.auth ? { auth: { user: ep.auth.user, pass: ep.auth.pass } } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    tls: {
      rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
      ...(opts.tls?.servername ? { servername: opts.tls.servername } : {}),
    },
    maxConnections: opts.connections,
    maxMessages: MAX_MESSAGES_PER_CONNECTION,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    greetingTimeout: GREETING_TIMEOUT_MS,
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Logs would carry envelope addresses ("Sending message … to <…>"), and
    // debug the whole message.
    logger: false,
    debug: false,
    transactionLog: false,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // The pool forwards connection failures as 'error' events on the Mail
  // object; an EventEmitter 'error' without a listener throws and would end
  // the process. Each failure also reaches the sendMail callback of the
  // message it concerns, which is where we report it.
  mailer.on("error", () => {});
  const pool = rawPoolOf(mailer);

  const inFlight = new Set<Promise<DeliveryResult>>();
  let closing: Promise<void> | undefined;

  async function send(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    const secrets = [envelope.to, envelope.from, ...credentials];
    if (!BARE_ADDRESS.test(envelope.to) || !BARE_ADDRESS.test(envelope.from)) {
      return { ok: false, permanent: true, message: clean("envelope address is not one bare address", secrets) };
    }
    try {
      // The raw bytes go out as they are. With a Message-ID and a plain ASCII envelope they go straight
      // to the pool (smtp-raw.ts); the Message-ID is only nodemailer's bookkeeping, never written.
      const messageId = meta?.messageId !== undefined && MESSAGE_ID.test(meta.messageId) ? meta.messageId : undefined;
      const info =
        pool !== null && canSendRaw(envelope, messageId)
          ? await sendRaw(pool, envelope, raw, messageId)
          : await mailer.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw });
      if (info.rejected.length > 0 || info.accepted.length !== 1) {
        return {
          ok: false,
          permanent: false,
          message: clean(`server accepted ${info.accepted.length} of 1 recipients: ${String(info.response)}`, secrets),
        };
      }
      return { ok: true, response: successResponse(info, secrets) };
    } catch (err) {
      return failureFromError(err, secrets);
    }
  }

  return {
    name: ep.display,

    deliver(envelope, raw, meta) {
      if (closing) return Promise.resolve({ ok: false, permanent: false, message: "transport is closed" });
      const p = send(envelope, raw, meta);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return p;
    },

    close() {
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const settled = Promise.allSettled([...inFlight]).then(() => true);
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS);
        });
        const allSettled = await Promise.race([settled, timedOut]);
        clearTimeout(timer);
        // Forced only when a delivery hangs past the grace period.
        mailer.close(allSettled ? undefined : { force: true });
      })();
      return closing;
    },
  };
}
