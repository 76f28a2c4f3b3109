/**
 * MailTransport over our own pooled SMTP client (smtp-conn.ts) for the send
 * path: finished bytes in, one transaction per message, PIPELINING when the
 * server offers it, the message and its end written with one writev.
 *
 * Why not nodemailer here: profiled on the bench (bench/send.ts), its pool
 * spent a large share of the send's CPU on a message it never changes — a stream
 * pipeline and a per-octet dot-stuffing Transform per message, and three
 * writes (envelope, data, terminator). This client does the same protocol
 * work on the Buffer (smtp-wire.ts) and is otherwise a drop-in: the same
 * URL and TLS policy (smtp-url.ts: STARTTLS whenever offered, never a
 * silent fall back, credentials off loopback only over TLS), the same
 * timeouts, the same error shapes classified by smtp-result.ts, the same
 * envelope check, and the same port contract (mail/port.ts). Anything it does
 * not speak — an envelope that is not printable ASCII (SMTPUTF8, IDN) —
 * goes to the nodemailer transport (smtp.ts), loaded and opened on first
 * use (smtp-lazy.ts).
 *
 * This file is the pool: it queues deliveries (smtp-jobs.ts), opens
 * connections as OpenPacing allows (smtp-pushback.ts), and hands each
 * connection to a session (smtp-session.ts) that carries messages until it
 * has none left. docs/design.md, "Sending and relay pushback", names the parts.
 *
 * Duplicates: a message's data is written at most once. A connection lost
 * (or closing with a 421, or at its per-connection limit) before a message's
 * end of data was written moves the message to another connection, up to
 * MAX_MOVES times (smtp-pushback.ts: the server cannot have accepted an
 * unfinished message), then fails it as transient. Lost, reset or timed out
 * after its end of data was written, without the final reply, it is InDoubt
 * (mail/port.ts; RFC 5321
 * §4.1.1.4, RFC 1047): the server may have queued it, so it is never moved or
 * retried and stays claimed in the ledger. Pushback handling: docs/design.md,
 * "Sending and relay pushback".
 */
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "../mail/port.ts";
import { DEFAULT_TIMEOUTS, SmtpConnection, type ConnOptions } from "./smtp-conn.ts";
import { clean, failureFromError, successResponse } from "./smtp-result.ts";
import { provePreflight } from "./preflight.ts";
import { createLazySmtpTransport } from "./smtp-lazy.ts";
import { parseSmtpUrl, type SmtpEndpoint } from "./smtp-url.ts";
import {
  checkConnections,
  CLOSE_GRACE_MS,
  isBareEnvelope,
  MAX_MESSAGES_PER_CONNECTION,
  PRINTABLE_ASCII,
  tlsOptionsOf,
  transportClosed,
  type SmtpTransportOptions,
} from "./smtp-policy.ts";
import { JobQueue, type Job } from "./smtp-jobs.ts";
import { MAX_MOVES, OpenPacing } from "./smtp-pushback.ts";
import { runSession, type SessionConnection, type SessionPool } from "./smtp-session.ts";

/**
 * A reply that clean() (smtp-result.ts) returns unchanged: one line of printable ASCII
 * without "@" (nothing for redact() or an address scrub to find) and under its length
 * bound. Only when the URL holds no credentials, which clean() would scrub too.
 */
const PLAIN_REPLY = /^[\x20-\x3f\x41-\x7e]{0,299}$/;

export function createPipelinedSmtpTransport(url: string, opts: SmtpTransportOptions): MailTransport {
  const ep = parseSmtpUrl(url, opts.label);
  checkConnections(opts.connections);
  const credentials = ep.auth ? [ep.auth.pass, ep.auth.user] : [];
  const pool = new Pool(connOptionsOf(ep, opts), opts.connections, credentials, () => createLazySmtpTransport(url, opts));
  return {
    name: ep.display,
    deliver: (envelope, raw, meta) => pool.deliver(envelope, raw, meta),
    abort: () => pool.abort(),
    /** One connection proved, then kept for the send (preflight.ts says what is retried). */
    preflight: () => provePreflight(ep.display, credentials, () => pool.openIdle()),
    close: () => pool.close(),
  };
}

/** What our connection needs from the URL and the options (the same TLS policy as smtp.ts). */
export function connOptionsOf(ep: SmtpEndpoint, opts: SmtpTransportOptions): ConnOptions {
  return {
    host: ep.host,
    port: ep.port,
    secure: ep.secure,
    requireTLS: ep.requireTLS,
    ...(ep.auth ? { auth: ep.auth } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    tls: tlsOptionsOf(opts.tls),
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
  };
}

/**
 * The connections and the queue: deliver() queues, pump() hands each waiting
 * message to an idle connection or opens one (paced by OpenPacing), and a
 * session (smtp-session.ts) carries messages until the connection has no more
 * to carry; then it rests idle or retires.
 */
class Pool implements SessionPool {
  private readonly queue = new JobQueue();
  private readonly idle: SmtpConnection[] = [];
  private readonly all = new Set<SmtpConnection>();
  private readonly pacing = new OpenPacing();
  /** Each connection's session (smtp-session.ts) until it hands the connection back. */
  private readonly sessions = new Set<Promise<void>>();
  private opening = 0;
  private inFlight = 0;
  private closing: Promise<void> | undefined;
  private closed = false;
  private settledAll: (() => void) | null = null;
  private openTimer: NodeJS.Timeout | null = null;
  /** For what this client does not speak; opened on first use. */
  private fallback: MailTransport | null = null;
  /** Messages per connection: lowered to what a relay accepted before its per-connection refusal. */
  private perConnection = MAX_MESSAGES_PER_CONNECTION;

  constructor(
    private readonly connOpts: ConnOptions,
    private readonly max: number,
    private readonly credentials: readonly string[],
    private readonly makeFallback: () => MailTransport,
  ) {}

  deliver(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    if (this.closing || this.closed) return Promise.resolve(transportClosed());
    const secrets = [envelope.to, envelope.from, ...this.credentials];
    if (!isBareEnvelope(envelope)) {
      return Promise.resolve({ ok: false, permanent: true, message: clean("envelope address is not one bare address", secrets) });
    }
    if (!PRINTABLE_ASCII.test(envelope.to) || !PRINTABLE_ASCII.test(envelope.from)) return this.viaFallback(envelope, raw, meta);
    if (!Buffer.isBuffer(raw)) {
      return Promise.resolve({ ok: false, permanent: true, message: "the message is not a byte buffer" });
    }
    this.inFlight++;
    return new Promise<DeliveryResult>((resolve) => {
      this.queue.push({ envelope, raw, secrets, moves: 0, resolve });
      this.pump();
    });
  }

  /** SMTPUTF8 (RFC 6531) and IDN domains: nodemailer's pool knows them. */
  private viaFallback(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    this.fallback ??= this.makeFallback();
    this.inFlight++;
    return this.fallback.deliver(envelope, raw, meta).finally(() => {
      this.inFlight--;
      this.wakeClose();
    });
  }

  private finish(job: Job, r: DeliveryResult): void {
    this.inFlight--;
    job.resolve(r);
    this.wakeClose();
  }

  /** close() waits for nothing to be in flight. */
  private wakeClose(): void {
    if (this.inFlight === 0 && this.settledAll) this.settledAll();
  }

  failed(job: Job, err: unknown): void {
    this.finish(job, failureFromError(err, job.secrets));
  }

  sent(job: Job, response: string): void {
    const plain = this.credentials.length === 0 && PLAIN_REPLY.test(response);
    this.finish(job, { ok: true, response: plain ? response : successResponse({ response }, job.secrets) });
  }

  /** Back to the head of the queue (the next connection free, or a fresh one, takes it first), up to MAX_MOVES times. */
  elsewhere(job: Job, err: unknown): void {
    if (this.closed || job.moves >= MAX_MOVES) return this.failed(job, err);
    job.moves++;
    this.queue.putBack(job);
  }

  limit(accepted: number): void {
    this.perConnection = Math.max(1, Math.min(this.perConnection, accepted));
  }

  /** The next queued message `c` may carry now (one over the server's SIZE fails at once). */
  next(c: SessionConnection): Job | undefined {
    if (this.closed || !c.alive || c.messages >= this.perConnection) return undefined;
    for (let j = this.queue.take(); j; j = this.queue.take()) {
      const tooBig = c.sizeError(j.raw);
      if (tooBig === null) return j;
      this.failed(j, tooBig);
    }
    return undefined;
  }

  /** Hands waiting messages to idle connections, opens connections for the rest, within the limits. */
  private pump(): void {
    while (this.queue.size > 0) {
      if (this.pacing.refusal !== null) {
        for (const j of this.queue.drain()) this.failed(j, this.pacing.refusal);
        return;
      }
      const c = this.idleConnection();
      if (c) {
        this.run(c, this.queue.take()!);
        continue;
      }
      if (this.all.size + this.opening < this.max && !this.closed && this.pacing.mayOpen(this.opening)) {
        const wait = this.pacing.waitMs();
        if (wait > 0) {
          this.openTimer ??= setTimeout(() => {
            this.openTimer = null;
            this.pump();
          }, wait);
          return;
        }
        this.open(this.queue.take()!);
        continue;
      }
      if (this.closed) this.failQueued();
      return;
    }
  }

  /** An idle connection still usable; the dead ones met on the way retire. */
  private idleConnection(): SmtpConnection | undefined {
    let c: SmtpConnection | undefined;
    while ((c = this.idle.pop()) !== undefined && !c.alive) this.retire(c);
    return c;
  }

  private open(job: Job): void {
    this.opening++;
    SmtpConnection.open(this.connOpts).then(
      (c) => {
        this.opening--;
        this.pacing.opened();
        this.all.add(c);
        this.run(c, job);
      },
      (err: unknown) => {
        this.opening--;
        if (this.pacing.failedToOpen(err) === "retry") this.queue.putBack(job);
        else this.failed(job, err);
        this.pump();
      },
    );
  }

  private run(c: SmtpConnection, job: Job): void {
    const session = runSession(c, job, this).then(
      () => this.release(c),
      () => this.release(c), // never happens: every outcome is a job's result
    );
    this.sessions.add(session);
    void session.finally(() => this.sessions.delete(session));
  }

  private release(c: SmtpConnection): void {
    if (c.alive && c.messages < this.perConnection && !this.closed) this.idle.push(c);
    else this.retire(c);
    this.pump();
  }

  private retire(c: SmtpConnection): void {
    this.all.delete(c);
    void c.quit();
  }

  /** Whatever is still queued never started. */
  private failQueued(): void {
    for (const j of this.queue.drain()) this.finish(j, transportClosed());
  }

  /** The preflight's connection: proved, then kept idle for the send. */
  async openIdle(): Promise<void> {
    const c = await SmtpConnection.open(this.connOpts);
    this.pacing.proved();
    this.all.add(c);
    this.idle.push(c);
  }

  /** Cuts every connection now; returns how many messages it leaves in doubt. */
  abort(): number {
    this.closed = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    let owed = 0;
    for (const c of this.all) {
      owed += c.awaitingFinal;
      c.destroy(); // in-flight reads reject: in doubt past the end of data, otherwise not delivered
    }
    this.all.clear();
    this.idle.length = 0;
    this.failQueued();
    return owed + (this.fallback?.abort?.() ?? 0);
  }

  close(): Promise<void> {
    this.closing ??= this.closeGracefully();
    return this.closing;
  }

  private async closeGracefully(): Promise<void> {
    if (this.inFlight > 0) await this.settledWithin(CLOSE_GRACE_MS);
    // Every message settled: the sessions end at once (none has a message left), and their
    // connections rest idle to say QUIT below rather than be cut.
    if (this.inFlight === 0) await Promise.all(this.sessions);
    this.closed = true;
    if (this.openTimer) clearTimeout(this.openTimer);
    // Past the grace period: whatever is still queued never started; in-flight ones fail with their connection.
    this.failQueued();
    const resting = new Set(this.idle);
    const conns = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    // Idle ones say QUIT; one still in a transaction (past the grace period) is cut.
    await Promise.all(conns.map((c) => (resting.has(c) && c.alive ? c.quit() : (c.destroy(), Promise.resolve()))));
    await this.fallback?.close();
  }

  /** Resolves once nothing is in flight, or after `ms`. */
  private async settledWithin(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.settledAll = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }
}
