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
 * envelope check, and the same port contract (port.ts). Anything it does
 * not speak — an envelope that is not printable ASCII (SMTPUTF8, IDN) —
 * goes to the nodemailer transport (smtp.ts), loaded and opened on first
 * use (smtp-lazy.ts).
 *
 * Duplicates: a message is written at most once; the pool never re-sends on
 * its own. A connection lost before a message's end of data was written
 * fails it as transient (retryable: the server cannot have accepted an
 * unfinished message). Lost, reset or timed out after its end of data was
 * written, without the final reply, it is InDoubt (port.ts; RFC 5321
 * §4.1.1.4, RFC 1047): the server may have queued it, so it is not retried
 * and stays claimed in the ledger.
 */
import { isAscii } from "node:buffer";
import { UsageError } from "../errors.ts";
import type { DeliveryMeta, DeliveryResult, Envelope, MailTransport } from "./port.ts";
import { SmtpConnection, type ConnOptions } from "./smtp-conn.ts";
import { dataChunks } from "./smtp-wire.ts";
import { clean, failureFromError, successResponse } from "./smtp-result.ts";
import { createLazySmtpTransport } from "./smtp-lazy.ts";
import type { SmtpTransportOptions } from "./smtp.ts";
import { parseSmtpUrl } from "./smtp-url.ts";

/** As smtp.ts: a connection is replaced after this many messages. */
const MAX_MESSAGES_PER_CONNECTION = 1000;
const CONNECTION_TIMEOUT_MS = 30_000;
const GREETING_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 5 * 60_000;
const CLOSE_GRACE_MS = 15_000;

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
    connectionTimeoutMs: CONNECTION_TIMEOUT_MS,
    greetingTimeoutMs: GREETING_TIMEOUT_MS,
    socketTimeoutMs: SOCKET_TIMEOUT_MS,
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

  const finish = (job: Job, r: DeliveryResult) => {
    inFlight--;
    job.resolve(r);
    if (inFlight === 0 && settledAll) settledAll();
  };
  const failed = (job: Job, err: unknown) => finish(job, failureFromError(err, job.secrets));
  const sent = (job: Job, response: string) =>
    finish(job, { ok: true, response: credentials.length === 0 && PLAIN_REPLY.test(response) ? response : successResponse({ response }, job.secrets) });

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
      let c: SmtpConnection | undefined;
      while ((c = idle.pop()) !== undefined && !c.alive) retire(c);
      if (c) {
        run(c, take()!);
        continue;
      }
      if (all.size + opening < max && !closed) {
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
        all.add(c);
        run(c, job);
      },
      (err: unknown) => {
        opening--;
        failed(job, err);
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
    if (closed || !c.alive || c.messages >= MAX_MESSAGES_PER_CONNECTION) return undefined;
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
   * (its end of data is on the wire: readFinal says so) and the one whose
   * envelope it carried (never its data) as transient; neither is re-sent here.
   * A write that fails (the connection already gone) wrote nothing: both transient.
   */
  async function pipelined(c: SmtpConnection, first: Job): Promise<void> {
    let job: Job | undefined = first;
    let envelopeSent = false;
    while (job) {
      const j: Job = job;
      job = undefined;
      try {
        if (!envelopeSent) {
          const tooBig = c.sizeError(j.raw);
          if (tooBig) throw tooBig;
          c.writeEnvelope(j.envelope.from, j.envelope.to, j.raw, !isAscii(j.raw));
        }
        envelopeSent = false;
        await c.readEnvelope();
      } catch (err) {
        failed(j, err);
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
        failed(j, err);
        if (next) failed(next, err);
        return;
      }
      job = next;
      try {
        const response = await c.readFinal();
        sent(j, response);
      } catch (err) {
        failed(j, err);
      }
    }
  }

  function release(c: SmtpConnection): void {
    if (c.alive && c.messages < MAX_MESSAGES_PER_CONNECTION && !closed) idle.push(c);
    else retire(c);
    pump();
  }

  function retire(c: SmtpConnection): void {
    all.delete(c);
    void c.quit();
  }

  function deliver(envelope: Envelope, raw: Buffer, meta: DeliveryMeta | undefined): Promise<DeliveryResult> {
    if (closing) return Promise.resolve({ ok: false, permanent: false, message: "transport is closed" });
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
      queue.push({ envelope, raw, secrets, resolve });
      pump();
    });
  }

  return {
    name: ep.display,
    deliver,
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
