/**
 * One connection's work in our SMTP client (smtp-pipelined.ts): the messages
 * it carries from the moment the pool hands it one until it has no more to
 * carry. The pool owns the queue and the connections; a session only asks it
 * for the next message (`next`) and reports each message's outcome.
 *
 * Duplicates (docs/design.md, "Sending and relay pushback"): a message's data
 * is written at most once. A message refused by the connection's own pushback
 * before its data was written goes back to the pool (`elsewhere`); one whose
 * end of data was written without a final reply fails in doubt (smtp-conn.ts
 * marks it `endOfDataSent`), never moved.
 */
import { isAscii } from "node:buffer";
import { smtpError, type SmtpConnection } from "./smtp-conn.ts";
import { dataChunks } from "./smtp-wire.ts";
import type { Job } from "./smtp-jobs.ts";
import { connectionPushback } from "./smtp-pushback.ts";

/** What a session uses of a connection (SmtpConnection; a fake in tests). */
export type SessionConnection = Pick<
  SmtpConnection,
  "alive" | "closing" | "accepted" | "messages" | "pipelining" | "sizeError" | "writeEnvelope" | "writeData" | "readEnvelope" | "readFinal" | "send"
>;

/** What a session asks of the pool. */
export interface SessionPool {
  /** The next queued message `c` may carry now, or undefined (closed, at its limit, nothing waiting). */
  next(c: SessionConnection): Job | undefined;
  /** The server accepted the message (its final reply). */
  sent(job: Job, response: string): void;
  /** The message's outcome is `err` (smtp-result.ts classifies it). */
  failed(job: Job, err: unknown): void;
  /** The server did not take the message and another connection may: back to the queue (or failed, past its moves). */
  elsewhere(job: Job, err: unknown): void;
  /** A relay refused more on one connection after `accepted` messages: carry no more than that per connection. */
  limit(accepted: number): void;
}

/** Carries `first`, then whatever the pool gives this connection next; every outcome goes to `pool`, never a rejection. */
export function runSession(c: SessionConnection, first: Job, pool: SessionPool): Promise<void> {
  return c.pipelining ? pipelined(c, first, pool) : oneByOne(c, first, pool);
}

/** A server without PIPELINING: one command at a time, one message. */
async function oneByOne(c: SessionConnection, job: Job, pool: SessionPool): Promise<void> {
  try {
    pool.sent(job, await c.send(job.envelope.from, job.envelope.to, job.raw, !isAscii(job.raw)));
  } catch (err) {
    pool.failed(job, err);
  }
}

/**
 * A message whose data did not complete: the connection's own pushback moves it
 * (and a per-connection limit closes the connection to new messages); anything
 * else is its outcome.
 */
export function refused(c: SessionConnection, job: Job, err: unknown, pool: SessionPool): void {
  const kind = connectionPushback(err, c.accepted);
  if (kind === "none") return pool.failed(job, err);
  if (kind === "limit") {
    pool.limit(c.accepted);
    c.closing = true; // no more on this one
  }
  pool.elsewhere(job, err);
}

/**
 * PIPELINING (RFC 2920): while messages are waiting, each message's data and
 * end go out in one write with the next message's envelope. A connection that
 * fails after that write fails the message whose final reply it owed as in
 * doubt (its end of data is on the wire: readFinal says so); the one whose
 * envelope it carried (never its data) moves to another connection, as does
 * any message the connection refused by its own pushback (refused()). Once the
 * server said 421, nothing more is written on the connection (RFC 5321 §3.8):
 * not the data of the envelope pipelined behind, not a RSET.
 */
async function pipelined(c: SessionConnection, first: Job, pool: SessionPool): Promise<void> {
  let job: Job | undefined = first;
  let envelopeSent = false;
  while (job) {
    const j: Job = job;
    if (envelopeSent && c.closing) {
      // Its envelope went out with the previous data, and the server closed (or said 421) since.
      return pool.elsewhere(j, smtpError("ECONNECTION", "The server closed the connection before this message's data", { command: "CONN" }));
    }
    if (!(await envelope(c, j, envelopeSent, pool))) {
      envelopeSent = false;
      job = c.alive ? pool.next(c) : undefined;
      continue;
    }
    const next = pool.next(c);
    if (!writeDataThen(c, j, next, pool)) return;
    envelopeSent = next !== undefined;
    job = next;
    await final(c, j, pool);
  }
}

/** Writes `j`'s envelope unless it went out already, and reads its replies: true on 354, else its outcome is reported. */
async function envelope(c: SessionConnection, j: Job, alreadySent: boolean, pool: SessionPool): Promise<boolean> {
  try {
    if (!alreadySent) {
      const tooBig = c.sizeError(j.raw);
      if (tooBig) throw tooBig;
      c.writeEnvelope(j.envelope.from, j.envelope.to, j.raw, !isAscii(j.raw));
    }
    await c.readEnvelope();
    return true;
  } catch (err) {
    refused(c, j, err, pool);
    return false;
  }
}

/**
 * `j`'s data and end, with `next`'s envelope in the same write when one waits.
 * False when nothing could be written: both go elsewhere.
 */
function writeDataThen(c: SessionConnection, j: Job, next: Job | undefined, pool: SessionPool): boolean {
  const chunks = dataChunks(j.raw);
  try {
    if (next) c.writeEnvelope(next.envelope.from, next.envelope.to, next.raw, !isAscii(next.raw), chunks);
    else c.writeData(chunks);
    return true;
  } catch (err) {
    pool.elsewhere(j, err);
    if (next) pool.elsewhere(next, err);
    return false;
  }
}

/** The reply to `j`'s end of data (written): its outcome. */
async function final(c: SessionConnection, j: Job, pool: SessionPool): Promise<void> {
  try {
    pool.sent(j, await c.readFinal());
  } catch (err) {
    refused(c, j, err, pool);
  }
}
