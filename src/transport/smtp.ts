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
 * its own.
 *
 * In doubt (port.ts; RFC 5321 §4.1.1.4, RFC 1047): nodemailer's errors do not
 * say whether the end of data went out — a connection lost while waiting for
 * the reply to it is `ECONNECTION`/`ESOCKET`/`ETIMEDOUT` with command "CONN",
 * exactly as one lost during the greeting. So we watch the message stream the
 * pool reads (`createReadStream()`, wrapped per delivery): nodemailer pipes it
 * into the DATA encoder only after the 354, and the encoder writes the final
 * "." when that stream ends. An error without a reply once the stream has
 * ended (`readableEnded`) is InDoubt; the stream not read to its end means
 * the end of data was never written (transient, retryable). A reply, 4yz or
 * 5yz, keeps its meaning (smtp-result.ts).
 */
import nodemailer from "nodemailer";
import { UsageError } from "../errors.ts";
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "./port.ts";
import { parseSmtpUrl } from "./smtp-url.ts";
import { clean, failureFromError, successResponse } from "./smtp-result.ts";
import { canSendRaw, rawPoolOf, sendRaw, type RawSentInfo } from "./smtp-raw.ts";

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
  timeouts?: Partial<import("./smtp-conn.ts").Timeouts>;
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

/** One bare address, nothing a parser could split into two (docs/design.md, "One recipient per message"). */
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
      ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
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
  // sendMail's path: each message's MimeNode gets its createReadStream watched (see the top comment).
  mailer.use("stream", (mail, done) => {
    const m = mail as unknown as { data?: { raw?: unknown }; message?: Watchable };
    const watch = m.data?.raw !== undefined && typeof m.data.raw === "object" && m.data.raw !== null ? watches.get(m.data.raw) : undefined;
    if (watch && m.message) watchStreams(m.message, watch);
    done();
  });
  const rawPool = rawPoolOf(mailer);
  // The raw path: the same watch on the plain message object smtp-raw.ts builds.
  const pool =
    rawPool === null
      ? null
      : {
          send(mail: unknown, callback: (err: Error | null, info: RawSentInfo) => void): unknown {
            const m = mail as { message?: Watchable };
            if (current !== null && m.message) watchStreams(m.message, current);
            return rawPool.send(mail, callback);
          },
        };
  /** The watch of the raw-path delivery being handed to the pool (set and used synchronously). */
  let current: StreamWatch | null = null;
  /** sendMail's path: the watch of each delivery, by its own view of the raw bytes. */
  const watches = new WeakMap<object, StreamWatch>();

  const inFlight = new Set<Promise<DeliveryResult>>();
  let closing: Promise<void> | undefined;

  async function send(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    const secrets = [envelope.to, envelope.from, ...credentials];
    if (!BARE_ADDRESS.test(envelope.to) || !BARE_ADDRESS.test(envelope.from)) {
      return { ok: false, permanent: true, message: clean("envelope address is not one bare address", secrets) };
    }
    const watch: StreamWatch = { stream: null };
    try {
      // The raw bytes go out as they are. With a Message-ID and a plain ASCII envelope they go straight
      // to the pool (smtp-raw.ts); the Message-ID is only nodemailer's bookkeeping, never written.
      const messageId = meta?.messageId !== undefined && MESSAGE_ID.test(meta.messageId) ? meta.messageId : undefined;
      let info: RawSentInfo;
      if (pool !== null && canSendRaw(envelope, messageId)) {
        current = watch;
        let sending: Promise<RawSentInfo>;
        try {
          sending = sendRaw(pool, envelope, raw, messageId);
        } finally {
          current = null;
        }
        info = await sending;
      } else {
        // A view of its own (no copy): the key that finds this delivery's watch in the stream plugin.
        const own = raw.subarray(0);
        watches.set(own, watch);
        info = await mailer.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw: own });
      }
      if (info.rejected.length > 0 || info.accepted.length !== 1) {
        return {
          ok: false,
          permanent: false,
          message: clean(`server accepted ${info.accepted.length} of 1 recipients: ${String(info.response)}`, secrets),
        };
      }
      return { ok: true, response: successResponse(info, secrets) };
    } catch (err) {
      return failureFromError(err, secrets, { endOfDataSent: endOfDataSent(watch, err) });
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

/** What a message object must have for its streams to be watched (MimeNode, smtp-raw.ts's object). */
interface Watchable {
  createReadStream(...args: unknown[]): unknown;
}

/** The last stream the pool took for one delivery (a re-queue takes a fresh one). */
interface StreamWatch {
  /** The message object's createReadStream was wrapped (the plugin or the pool wrapper ran). */
  installed?: boolean;
  stream: { readableDidRead?: boolean; readableEnded?: boolean } | null;
}

/** Records every stream `message.createReadStream()` hands out into `watch`. */
function watchStreams(message: Watchable, watch: StreamWatch): void {
  watch.installed = true;
  const create = message.createReadStream.bind(message);
  message.createReadStream = (...args: unknown[]) => {
    const stream = create(...args);
    watch.stream = typeof stream === "object" && stream !== null ? (stream as StreamWatch["stream"]) : null;
    return stream;
  };
}

/**
 * Was the message's end of data handed to the connection? The pool pipes the
 * stream into nodemailer's DATA encoder after the 354, and the encoder writes
 * the final "." when the stream ends: ended means the end of data went out (or
 * was about to, which is as much in doubt). Not read at all, or not to its end:
 * it was not. A watch that was never installed (a nodemailer that no longer
 * calls the stream plugin or the pool's send as 10.6.1 does) cannot tell: a
 * lost connection is then in doubt, the safe side (an error with a reply
 * keeps its meaning regardless, smtp-result.ts).
 */
function endOfDataSent(watch: StreamWatch, err: unknown): boolean {
  if (watch.installed !== true) {
    const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
    return code === "ECONNECTION" || code === "ESOCKET" || code === "ETIMEDOUT";
  }
  const s = watch.stream;
  return s !== null && s.readableDidRead === true && s.readableEnded === true;
}
