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
 * Duplicates: a message's data is written at most once. A connection lost
 * (or closing with a 421, or at its per-connection limit) before a message's
 * end of data was written moves the message to another connection, up to
 * MAX_MOVES times (the server cannot have accepted an unfinished message),
 * then fails it as transient. Lost, reset or timed out after its end of data
 * was written, without the final reply, it is InDoubt (mail/port.ts; RFC 5321
 * §4.1.1.4, RFC 1047): the server may have queued it, so it is never moved or
 * retried and stays claimed in the ledger. Pushback handling: docs/design.md,
 * "Sending and relay pushback".
 */
import { isAscii } from "node:buffer";
import { UsageError } from "../errors.ts";
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "../mail/port.ts";
import { DEFAULT_TIMEOUTS, SmtpConnection, type ConnOptions, type SmtpError } from "./smtp-conn.ts";
import { dataChunks } from "./smtp-wire.ts";
import { clean, failureFromError, isThrottling, successResponse } from "./smtp-result.ts";
import { provePreflight } from "./preflight.ts";
import { createLazySmtpTransport } from "./smtp-lazy.ts";
import type { SmtpTransportOptions } from "./smtp.ts";
import { parseSmtpUrl } from "./smtp-url.ts";

/** As smtp.ts: a connection is replaced after this many messages (fewer once a relay shows its own limit). */
const MAX_MESSAGES_PER_CONNECTION = 1000;
const CLOSE_GRACE_MS = 15_000;
/** A message refused by one connection's pushback (421, a per-connection 452, a lost connection) tries this many more. */
const MAX_MOVES = 3;
/** After a connection could not be opened, the next waits 250 ms, doubling, at most 2 s (no storm against a sick relay). */
const OPEN_PAUSE_MS = 250;
const OPEN_PAUSE_MAX_MS = 2000;

/** One bare address, nothing a parser could split into two (docs/design.md, "One recipient per message"); as smtp.ts. */
const BARE_ADDRESS = /^[^\s\p{Cc}@,;:<>"'()[\]\\]+@[^\s\p{Cc}@,;:<>"'()[\]\\]+$/u;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
/**
 * A reply that clean() (smtp-result.ts) returns unchanged: one line of printable ASCII
 * without "@" (nothing for redact() or an address scrub to find) and under its length
 * bound. Only when the URL holds no credentials, which clean() would scrub too.
 */
const PLAIN_REPLY = /^[\x20-\x3f\x41-\x7e]{0,299}$/;

interface Job {
  envelope: Envelope;
  raw: Buffer;
  secrets: string[];
  /** Times moved to another connection after that connection's pushback. */
  moves: number;
  resolve(r: DeliveryResult): void;
}

export function createPipelinedSmtpTransport(url: string, opts: SmtpTransportOptions): MailTransport {
  const ep = parseSmtpUrl(url, opts.label);
  if (!Number.isInteger(opts.connections) || opts.connections < 1) {
    throw new UsageError(`connections must be a positive integer, got ${String(opts.connections)}`);
  }
  const credentials = ep.auth ? [ep.auth.pass, ep.auth.user] : [];
  const connOpts: ConnOptions = {
    host: ep.host,
    port: ep.port,
    secure: ep.secure,
    requireTLS: ep.requireTLS,
    ...(ep.auth ? { auth: ep.auth } : {}),
    ...(opts.name ? { name: opts.name } : {}),
    tls: {
      rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
      ...(opts.tls?.servername ? { servername: opts.tls.servername } : {}),
      ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}),
    },
    timeouts: { ...DEFAULT_TIMEOUTS, ...opts.timeouts },
  };
  const max = opts.connections;

  const queue: Job[] = [];
  let queueHead = 0;
  const idle: SmtpConnection[] = [];
  const all = new Set<SmtpConnection>();
  let opening = 0;
  let inFlight = 0;
  let closing: Promise<void> | undefined;
  let closed = false;
  let settledAll: (() => void) | null = null;
  /** For what this client does not speak; opened on first use. */
  let fallback: MailTransport | null = null;
  /** Messages per connection: lowered to what a relay accepted before its per-connection refusal. */
  let perConnection = MAX_MESSAGES_PER_CONNECTION;
  /** Credentials refused twice (once, then on a fresh connection): every message fails so, none connects. */
  let authRefusal: unknown = null;
  let authFailures = 0;
  /** A connection got through the handshake once. */
  let proven = false;
  let openFailures = 0;
  let nextOpenAt = 0;
  let openTimer: NodeJS.Timeout | null = null;

  const finish = (job: Job, r: DeliveryResult) => {
    inFlight--;
    job.resolve(r);
    if (inFlight === 0 && settledAll) settledAll();
  };
  const failed = (job: Job, err: unknown) => finish(job, failureFromError(err, job.secrets));
  const sent = (job: Job, response: string) =>
    finish(job, { ok: true, response: credentials.length === 0 && PLAIN_REPLY.test(response) ? response : successResponse({ response }, job.secrets) });

  /** Back to the head of the queue: the next connection free (or a fresh one) takes it first. */
  function putBack(job: Job): void {
    if (queueHead > 0) queue[--queueHead] = job;
    else queue.unshift(job);
  }

  /**
   * A connection's pushback (a 421, a per-connection 452, the connection lost or closed
   * before this message's data was written): the server did not take the message, and
   * another connection may. Up to MAX_MOVES times; then the failure goes to the caller.
   */
  function elsewhere(job: Job, err: unknown): void {
    if (closed || job.moves >= MAX_MOVES) return failed(job, err);
    job.moves++;
    putBack(job);
  }

  /** Is `err` (for a message whose data did not complete) this connection's pushback? Moves the job if so. */
  function movedOnPushback(c: SmtpConnection, job: Job, err: unknown): boolean {
    const e = err as Partial<SmtpError>;
    if (e.endOfDataSent === true || e.code === "EAUTH") return false;
    const code = e.responseCode;
    if (code !== undefined && isThrottling(code, e.response ?? "")) return false; // the caller slows down
    const lost = code === undefined && (e.code === "ECONNECTION" || e.code === "ESOCKET" || e.code === "ETIMEDOUT" || e.code === "EPROTOCOL");
    // A 452 after messages this connection carried is its limit (RFC 5321 §4.5.3.1.10 lets a server
    // refuse "too many recipients"; relays apply it per connection); a 452 on a fresh one is not.
    const limit = code === 452 && c.accepted > 0;
    if (!lost && code !== 421 && !limit) return false;
    if (limit) {
      perConnection = Math.max(1, Math.min(perConnection, c.accepted));
      c.closing = true; // no more on this one
    }
    elsewhere(job, err);
    return true;
  }

  function take(): Job | undefined {
    if (queueHead >= queue.length) return undefined;
    const j = queue[queueHead]!;
    queue[queueHead++] = undefined as unknown as Job;
    if (queueHead > 1024 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    return j;
  }

  function pump(): void {
    while (queueHead < queue.length) {
      if (authRefusal !== null) {
        for (let j = take(); j; j = take()) failed(j, authRefusal);
        return;
      }
      let c: SmtpConnection | undefined;
      while ((c = idle.pop()) !== undefined && !c.alive) retire(c);
      if (c) {
        run(c, take()!);
        continue;
      }
      // Until one connection got through (the preflight's, usually), and while credentials are
      // being retried, one opens at a time: a wrong password costs two AUTHs, not one per connection.
      if (all.size + opening < max && !closed && !((!proven || authFailures > 0) && opening > 0)) {
        const wait = nextOpenAt - Date.now();
        if (wait > 0) {
          openTimer ??= setTimeout(() => {
            openTimer = null;
            pump();
          }, wait);
          return;
        }
        open(take()!);
        continue;
      }
      if (closed) {
        for (let j = take(); j; j = take()) finish(j, { ok: false, permanent: false, message: "transport is closed" });
      }
      return;
    }
  }

  function open(job: Job): void {
    opening++;
    SmtpConnection.open(connOpts).then(
      (c) => {
        opening--;
        proven = true;
        openFailures = 0;
        nextOpenAt = 0;
        authFailures = 0;
        all.add(c);
        run(c, job);
      },
      (err: unknown) => {
        opening--;
        openFailures++;
        nextOpenAt = Date.now() + Math.min(OPEN_PAUSE_MAX_MS, OPEN_PAUSE_MS * 2 ** (openFailures - 1));
        if ((err as SmtpError).code === "EAUTH") {
          // At most one retry, on a fresh connection: a wrong password must not become one
          // AUTH per message (providers lock accounts after a few).
          if (++authFailures >= 2) {
            authRefusal = err;
            failed(job, err);
          } else putBack(job);
        } else {
          // Not moved: a relay that refuses connections refuses the next one too. The caller
          // retries it with its backoff (mail/port.ts pushback "connection").
          failed(job, err);
        }
        pump();
      },
    );
  }

  function run(c: SmtpConnection, job: Job): void {
    const work = c.pipelining ? pipelined(c, job) : oneByOne(c, job);
    work.then(
      () => release(c),
      () => release(c), // never happens: every outcome is a job's result
    );
  }

  /** A server without PIPELINING: one command at a time, one message. */
  async function oneByOne(c: SmtpConnection, job: Job): Promise<void> {
    try {
      const response = await c.send(job.envelope.from, job.envelope.to, job.raw, !isAscii(job.raw));
      sent(job, response);
    } catch (err) {
      failed(job, err);
    }
  }

  /** The next queued message this connection may carry now (one over the server's SIZE fails at once). */
  function nextFor(c: SmtpConnection): Job | undefined {
    if (closed || !c.alive || c.messages >= perConnection) return undefined;
    for (let j = take(); j; j = take()) {
      const tooBig = c.sizeError(j.raw);
      if (tooBig === null) return j;
      failed(j, tooBig);
    }
    return undefined;
  }

  /**
   * PIPELINING: while messages are waiting, each message's data and end go out
   * in one write with the next message's envelope. A connection that fails
   * after that write fails the message whose final reply it owed as in doubt
   * (its end of data is on the wire: readFinal says so); the one whose
   * envelope it carried (never its data) moves to another connection, as does
   * any message the connection refused by its own pushback (movedOnPushback).
   * Once the server said 421, nothing more is written on the connection (RFC
   * 5321 §3.8): not the data of the envelope pipelined behind, not a RSET.
   */
  async function pipelined(c: SmtpConnection, first: Job): Promise<void> {
    let job: Job | undefined = first;
    let envelopeSent = false;
    while (job) {
      const j: Job = job;
      job = undefined;
      if (envelopeSent && c.closing) {
        // Its envelope went out with the previous data, and the server closed (or said 421) since.
        return elsewhere(j, smtpClosed());
      }
      try {
        if (!envelopeSent) {
          const tooBig = c.sizeError(j.raw);
          if (tooBig) throw tooBig;
          c.writeEnvelope(j.envelope.from, j.envelope.to, j.raw, !isAscii(j.raw));
        }
        envelopeSent = false;
        await c.readEnvelope();
      } catch (err) {
        if (!movedOnPushback(c, j, err)) failed(j, err);
        if (c.alive) job = nextFor(c);
        continue;
      }
      const chunks = dataChunks(j.raw);
      const next = nextFor(c);
      try {
        if (next) {
          c.writeEnvelope(next.envelope.from, next.envelope.to, next.raw, !isAscii(next.raw), chunks);
          envelopeSent = true;
        } else {
          c.writeData(chunks);
        }
      } catch (err) {
        // Nothing was written: both may go elsewhere.
        elsewhere(j, err);
        if (next) elsewhere(next, err);
        return;
      }
      job = next;
      try {
        const response = await c.readFinal();
        sent(j, response);
      } catch (err) {
        if (!movedOnPushback(c, j, err)) failed(j, err);
      }
    }
  }

  function release(c: SmtpConnection): void {
    if (c.alive && c.messages < perConnection && !closed) idle.push(c);
    else retire(c);
    pump();
  }

  function retire(c: SmtpConnection): void {
    all.delete(c);
    void c.quit();
  }

  function deliver(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    if (closing || closed) return Promise.resolve({ ok: false, permanent: false, message: "transport is closed" });
    const secrets = [envelope.to, envelope.from, ...credentials];
    if (typeof envelope.to !== "string" || typeof envelope.from !== "string" || !BARE_ADDRESS.test(envelope.to) || !BARE_ADDRESS.test(envelope.from)) {
      return Promise.resolve({ ok: false, permanent: true, message: clean("envelope address is not one bare address", secrets) });
    }
    if (!PRINTABLE_ASCII.test(envelope.to) || !PRINTABLE_ASCII.test(envelope.from)) {
      // SMTPUTF8 (RFC 6531) and IDN domains: nodemailer's pool knows them.
      fallback ??= createLazySmtpTransport(url, opts);
      inFlight++;
      return fallback.deliver(envelope, raw, meta).finally(() => {
        inFlight--;
        if (inFlight === 0 && settledAll) settledAll();
      });
    }
    if (!Buffer.isBuffer(raw)) {
      return Promise.resolve({ ok: false, permanent: true, message: "the message is not a byte buffer" });
    }
    inFlight++;
    return new Promise<DeliveryResult>((resolve) => {
      queue.push({ envelope, raw, secrets, moves: 0, resolve });
      pump();
    });
  }

  function abort(): number {
    closed = true;
    if (openTimer) clearTimeout(openTimer);
    let owed = 0;
    for (const c of all) {
      owed += c.awaitingFinal;
      c.destroy(); // in-flight reads reject: in doubt past the end of data, otherwise not delivered
    }
    all.clear();
    idle.length = 0;
    for (let j = take(); j; j = take()) finish(j, { ok: false, permanent: false, message: "transport is closed" });
    return owed + (fallback?.abort?.() ?? 0);
  }

  return {
    name: ep.display,
    deliver,
    abort,
    /** One connection proved, then kept for the send (preflight.ts says what is retried). */
    preflight: () =>
      provePreflight(ep.display, credentials, async () => {
        const c = await SmtpConnection.open(connOpts);
        proven = true;
        all.add(c);
        idle.push(c);
      }),
    close() {
      closing ??= (async () => {
        if (inFlight > 0) {
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            settledAll = resolve;
            timer = setTimeout(resolve, CLOSE_GRACE_MS);
          });
          clearTimeout(timer);
        }
        closed = true;
        if (openTimer) clearTimeout(openTimer);
        // Past the grace period: whatever is still queued never started; in-flight ones fail with their connection.
        for (let j = take(); j; j = take()) finish(j, { ok: false, permanent: false, message: "transport is closed" });
        const resting = new Set(idle);
        const conns = [...all];
        all.clear();
        idle.length = 0;
        // Idle ones say QUIT; one still in a transaction (past the grace period) is cut.
        await Promise.all(conns.map((c) => (resting.has(c) && c.alive ? c.quit() : (c.destroy(), Promise.resolve()))));
        await fallback?.close();
      })();
      return closing;
    },
  };
}

function smtpClosed(): SmtpError {
  const e = new Error("The server closed the connection before this message's data") as SmtpError;
  e.code = "ECONNECTION";
  e.command = "CONN";
  return e;
}
