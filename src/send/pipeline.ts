/**
 * The send loop: ledger-aware, guarded, rate-limited, bounded in flight,
 * retrying transient failures, stopped by the breaker, the guard or a signal.
 *
 * Order per batch (DESIGN.md "The ledger"):
 *   1. claim the batch durably          (a crash after this: in doubt, never resent silently)
 *   2. per message: compose → guard → hand to the transport
 *   3. record the outcome                (buffered; rides with the next claim)
 * A guard violation aborts the whole send (invariant 4): the offending
 * message is not handed over, nothing after it starts.
 */
import type { GuardContext, GuardVerdict } from "../guard/port.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { DeliveryResult, Envelope, MailTransport } from "../transport/port.ts";
import { Halt, sleep } from "./halt.ts";
import { backoffMs, CircuitBreaker, DEFAULT_RETRY, type RetryPolicy } from "./policy.ts";

/** One composed message, ready for the guard and the transport. */
export interface Outgoing {
  envelope: Envelope;
  raw: Buffer;
  messageId: string;
  guard: GuardContext;
}

/** One recipient as the loop sees it: identity for the ledger, composition deferred until its turn. */
export interface SendItem {
  fp: string;
  /** Masked address for reports. */
  masked: string;
  build(): Outgoing;
}

export interface PipelineDeps {
  transport: MailTransport;
  ledger: Ledger;
  guard: (raw: Buffer, envelope: Envelope, ctx: GuardContext) => GuardVerdict;
  random?: () => number;
  now?: () => number;
  onProgress?: (p: Progress) => void;
  /** Told when the canary is out and the pause begins. */
  onCanaryPause?: (sent: number, pauseMs: number) => void;
}

export interface PipelineOptions {
  /** Messages per second (token bucket). */
  rate: number;
  maxInFlight: number;
  /** Recipients per durable claim. Keeps the in-doubt window ≤ batch + in flight. */
  batchSize: number;
  maxFailureRate: number;
  retry?: RetryPolicy;
  resendInDoubt: boolean;
  dryRun: boolean;
  canary?: { size: number; pauseMs: number };
  progressEveryMs?: number;
  /** Recipients this run is expected to handle (for ETA). */
  total: number;
}

export interface Progress {
  sent: number;
  failed: number;
  skipped: number;
  inFlight: number;
  total: number;
  ratePerSec: number;
  etaSec: number | null;
}

export interface FailedRecipient {
  fp: string;
  masked: string;
  permanent: boolean;
  code?: number;
  reason: string;
}

export interface PipelineResult {
  outcome: "completed" | "halted" | "aborted";
  halt: Halt;
  sent: number;
  /** Dry run: messages composed and guarded, not handed over. */
  dryRunChecked: number;
  alreadySent: number;
  alreadyFailed: number;
  failed: FailedRecipient[];
  /** Recipients claimed by an earlier run without an outcome, skipped (no --resend-in-doubt). */
  inDoubt: Array<{ fp: string; masked: string }>;
  guardViolation?: Extract<GuardVerdict, { ok: false }>;
}

export async function runPipeline(
  items: AsyncIterable<SendItem> | Iterable<SendItem>,
  deps: PipelineDeps,
  opts: PipelineOptions,
  halt: Halt,
): Promise<PipelineResult> {
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  const retry = opts.retry ?? DEFAULT_RETRY;
  const breaker = new CircuitBreaker(opts.maxFailureRate);
  const states = deps.ledger.state.recipients;
  const result: PipelineResult = {
    outcome: "completed", halt, sent: 0, dryRunChecked: 0, alreadySent: 0, alreadyFailed: 0, failed: [], inDoubt: [],
  };

  const inflight = new Set<Promise<void>>();
  const started = now();
  let launched = 0;
  let nextSlotAt = started;
  const interval = 1000 / opts.rate;
  let canaryDone = !opts.canary || opts.canary.size <= 0;

  const progress = () => {
    const elapsed = (now() - started) / 1000;
    const done = result.sent + result.failed.length + result.dryRunChecked;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const left = opts.total - done - result.alreadySent - result.alreadyFailed - result.inDoubt.length;
    deps.onProgress?.({
      sent: result.sent + result.dryRunChecked, failed: result.failed.length,
      skipped: result.alreadySent + result.alreadyFailed + result.inDoubt.length, inFlight: inflight.size,
      total: opts.total, ratePerSec: rate, etaSec: rate > 0 && left >= 0 ? left / rate : null,
    });
  };
  const timer = deps.onProgress ? setInterval(progress, opts.progressEveryMs ?? 5000) : null;
  timer?.unref();

  async function deliver(item: SendItem, out: Outgoing): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let res: DeliveryResult;
      try {
        res = await deps.transport.deliver(out.envelope, out.raw);
      } catch (e) {
        // The port promises never to reject; if it does, treat it as transient and keep the recipient retryable.
        res = { ok: false, permanent: false, message: `transport error: ${(e as Error)?.name ?? "unknown"}` };
      }
      if (res.ok) {
        deps.ledger.recordSent(item.fp, out.messageId);
        result.sent++;
        breaker.record(false);
        return;
      }
      const giveUp = res.permanent || attempt >= retry.maxAttempts || halt.halted;
      if (!giveUp) {
        await sleep(backoffMs(retry, attempt, random), halt.signal);
        if (!halt.halted) continue;
      }
      deps.ledger.recordFailed(item.fp, res.permanent, res.message, res.code);
      result.failed.push({
        fp: item.fp, masked: item.masked, permanent: res.permanent, reason: res.message,
        ...(res.code !== undefined ? { code: res.code } : {}),
      });
      breaker.record(true);
      if (breaker.open) {
        halt.stop({
          kind: "abort",
          reason: `circuit breaker: ${(breaker.rate * 100).toFixed(1)} % of the last ${breaker.samples} messages failed (limit ${(opts.maxFailureRate * 100).toFixed(1)} %)`,
        });
      }
      return;
    }
  }

  async function waitForSlot(): Promise<void> {
    while (inflight.size >= opts.maxInFlight) await Promise.race(inflight);
  }

  async function drain(): Promise<void> {
    while (inflight.size > 0) await Promise.race(inflight);
  }

  /** Returns false when the loop must stop. */
  async function sendBatch(batch: SendItem[]): Promise<boolean> {
    if (!opts.dryRun) await deps.ledger.claim(batch.map((b) => b.fp));
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i]!;
      if (!halt.halted) await waitForSlot();
      if (!halt.halted) {
        // Token bucket with no burst: one message every 1/rate seconds.
        const wait = nextSlotAt - now();
        nextSlotAt = Math.max(nextSlotAt, now()) + interval;
        if (wait > 0) await sleep(wait, halt.signal);
      }
      if (halt.halted) {
        deps.ledger.release(batch.slice(i).map((b) => b.fp));
        return false;
      }
      const out = item.build();
      const verdict = deps.guard(out.raw, out.envelope, out.guard);
      if (!verdict.ok) {
        result.guardViolation = verdict;
        halt.stop({ kind: "abort", reason: `guard: ${verdict.reason} in ${verdict.where} (${verdict.masked})` });
        deps.ledger.release(batch.slice(i).map((b) => b.fp));
        return false;
      }
      launched++;
      if (opts.dryRun) {
        result.dryRunChecked++;
      } else {
        const p: Promise<void> = deliver(item, out).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (!canaryDone && launched >= opts.canary!.size) {
        canaryDone = true;
        await drain();
        await deps.ledger.flush();
        if (!halt.halted && !opts.dryRun) {
          deps.onCanaryPause?.(result.sent, opts.canary!.pauseMs);
          await sleep(opts.canary!.pauseMs, halt.signal);
        }
      }
    }
    return !halt.halted;
  }

  try {
    let batch: SendItem[] = [];
    for await (const item of items) {
      if (halt.halted) break;
      const st = states.get(item.fp);
      if (st === "sent") {
        result.alreadySent++;
        continue;
      }
      if (st === "failed-permanent") {
        result.alreadyFailed++;
        continue;
      }
      if (st === "claimed" && !opts.resendInDoubt) {
        result.inDoubt.push({ fp: item.fp, masked: item.masked });
        continue;
      }
      batch.push(item);
      // The canary boundary ends a batch, so the pause never holds claims of unsent recipients.
      const canaryCut = !canaryDone && launched + batch.length >= opts.canary!.size;
      if (batch.length >= opts.batchSize || canaryCut) {
        const go = await sendBatch(batch);
        batch = [];
        if (!go) break;
      }
    }
    if (batch.length > 0 && !halt.halted) await sendBatch(batch);
    await drain();
  } finally {
    await drain().catch(() => undefined);
    if (timer) clearInterval(timer);
    progress();
  }
  result.outcome = halt.cause === null ? "completed" : halt.cause.kind === "signal" ? "halted" : "aborted";
  if (!opts.dryRun) {
    await deps.ledger.end(result.outcome, halt.cause ? (halt.cause.kind === "signal" ? halt.cause.signal : halt.cause.reason) : undefined);
  }
  return result;
}
