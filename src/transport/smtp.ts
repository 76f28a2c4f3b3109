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
 * In doubt (mail/port.ts; RFC 5321 §4.1.1.4, RFC 1047): nodemailer's errors do not
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
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "../mail/port.ts";
import { parseSmtpUrl } from "./smtp-url.ts";
import { clean, failureFromError, successResponse } from "./smtp-result.ts";
import { canSendRaw, rawPoolOf, sendRaw, type RawSentInfo } from "./smtp-raw.ts";
import { DEFAULT_TIMEOUTS } from "./smtp-conn.ts";
import { provePreflight } from "./preflight.ts";
import { checkConnections, CLOSE_GRACE_MS, isBareEnvelope, MAX_MESSAGES_PER_CONNECTION, tlsOptionsOf, transportClosed, type SmtpTransportOptions } from "./smtp-policy.ts";

/*
 * Waits: the same as our client's (smtp-conn.ts DEFAULT_TIMEOUTS): connect,
 * greeting, and — nodemailer has one inactivity timeout for every other
 * wait — the longest of ours, the reply to the end of data.
 */

/** A msg-id without brackets (RFC 5322 §3.6.4), nothing that could fold or end a header. */
const MESSAGE_ID = /^[\x21-\x3b\x3d\x3f-\x7e]{1,250}$/;

export function createSmtpTransport(url: string, opts: SmtpTransportOptions): MailTransport {
  const ep = parseSmtpUrl(url, opts.label);
  checkConnections(opts.connections);
  const credentials = ep.auth ? [ep.auth.pass, ep.auth.user] : [];

  const timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  /** One nodemailer pool; replaced by a fresh one when a relay pushes back per connection (see send()). */
  const makeMailer = () =>
    nodemailer.createTransport({
      pool: true,
      host: ep.host,
      port: ep.port,
      secure: ep.secure,
      requireTLS: ep.requireTLS,
      ignoreTLS: false,
      opportunisticTLS: false,
      ...(ep.auth ? { auth: { user: ep.auth.user, pass: ep.auth.pass } } : {}),
      ...(opts.name ? { name: opts.name } : {}),
      tls: tlsOptionsOf(opts.tls),
      maxConnections: opts.connections,
      maxMessages: MAX_MESSAGES_PER_CONNECTION,
      connectionTimeout: timeouts.connectMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.finalMs,
      // Logs would carry envelope addresses ("Sending message … to <…>"), and
      // debug the whole message.
      logger: false,
      debug: false,
      transactionLog: false,
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  type Mailer = ReturnType<typeof makeMailer>;
  /** The watch of the raw-path delivery being handed to the pool (set and used synchronously). */
  let current: StreamWatch | null = null;
  /** sendMail's path: the watch of each delivery, by its own view of the raw bytes. */
  const watches = new WeakMap<object, StreamWatch>();

  function setUp(m: Mailer) {
    // The pool forwards connection failures as 'error' events on the Mail
    // object; an EventEmitter 'error' without a listener throws and would end
    // the process. Each failure also reaches the sendMail callback of the
    // message it concerns, which is where we report it.
    m.on("error", () => {});
    // sendMail's path: each message's MimeNode gets its createReadStream watched (see the top comment).
    m.use("stream", (mail, done) => {
      const mm = mail as unknown as { data?: { raw?: unknown }; message?: Watchable };
      const watch = mm.data?.raw !== undefined && typeof mm.data.raw === "object" && mm.data.raw !== null ? watches.get(mm.data.raw) : undefined;
      if (watch && mm.message) watchStreams(mm.message, watch);
      done();
    });
    const rp = rawPoolOf(m);
    // The raw path: the same watch on the plain message object smtp-raw.ts builds.
    return rp === null
      ? null
      : {
          send(mail: unknown, callback: (err: Error | null, info: RawSentInfo) => void): unknown {
            const mm = mail as { message?: Watchable };
            if (current !== null && mm.message) watchStreams(mm.message, current);
            return rp.send(mail, callback);
          },
        };
  }
  type RawPool = ReturnType<typeof setUp>;

  let mailer = makeMailer();
  let rawPool = setUp(mailer);
  /** Pools replaced after a per-connection pushback, closed once their deliveries settle. */
  const retiring = new Set<Mailer>();
  /** Deliveries in flight per pool. */
  const pending = new Map<Mailer, number>();

  /**
   * A per-connection refusal (a 421 that is not throttling, a "452 4.5.3" too many): nodemailer
   * would send the next message over the same pooled connection, refused the same way. New
   * deliveries go to a fresh pool; the old one closes once its deliveries settle.
   */
  function freshPool(old: Mailer): void {
    if (old !== mailer || closing) return;
    retiring.add(old);
    mailer = makeMailer();
    rawPool = setUp(mailer);
    const settle = () => {
      if (pending.get(old)) return void setTimeout(settle, 100);
      retiring.delete(old);
      pending.delete(old);
      old.close();
    };
    settle();
  }

  const inFlight = new Set<Promise<DeliveryResult>>();
  let closing: Promise<void> | undefined;

  async function send(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    const secrets = [envelope.to, envelope.from, ...credentials];
    if (!isBareEnvelope(envelope)) {
      return { ok: false, permanent: true, message: clean("envelope address is not one bare address", secrets) };
    }
    const used = mailer;
    const first = await sendOn(used, envelope, raw, meta, secrets);
    if (first.ok || first.inDoubt || first.pushback !== undefined || !perConnection(first.code, first.message)) return first;
    // Refused by that connection, not for this message: once more, on a fresh pool.
    freshPool(used);
    return sendOn(mailer, envelope, raw, meta, secrets);
  }

  async function sendOn(m: Mailer, envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined, secrets: string[]): Promise<DeliveryResult> {
    pending.set(m, (pending.get(m) ?? 0) + 1);
    try {
      return await attempt(m, m === mailer ? rawPool : null, envelope, raw, meta, secrets);
    } finally {
      pending.set(m, (pending.get(m) ?? 1) - 1);
    }
  }

  async function attempt(m: Mailer, pool: RawPool, envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined, secrets: string[]): Promise<DeliveryResult> {
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
        info = await m.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw: own });
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

    /** nodemailer's verify(): connect, EHLO, STARTTLS, AUTH, then QUIT. */
    preflight: () =>
      provePreflight(ep.display, credentials, async () => {
        await mailer.verify();
      }),

    abort() {
      closing ??= Promise.resolve();
      // nodemailer cannot say which deliveries had their end of data out: each one in flight may be in doubt.
      const left = inFlight.size;
      for (const m of [mailer, ...retiring]) m.close({ force: true });
      return left;
    },

    deliver(envelope, raw, meta) {
      if (closing) return Promise.resolve(transportClosed());
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
        for (const m of [mailer, ...retiring]) m.close(allSettled ? undefined : { force: true });
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

/** A refusal that belongs to the connection, not the message (docs/design.md, "Sending and relay pushback"). */
function perConnection(code: number | undefined, message: string): boolean {
  return code === 421 || (code === 452 && /\b4\.5\.3\b/.test(message));
}
