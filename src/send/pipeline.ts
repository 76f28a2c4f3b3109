/**
 * The send loop: ledger-aware, guarded, rate-limited, bounded in flight,
 * retrying transient failures (never one in doubt), stopped by the breaker,
 * the guard or a signal.
 *
 * Order per group (docs/design.md, "The ledger"):
 *   1. claim the group durably           (a crash after this: in doubt, never resent silently)
 *   2. meanwhile compose and guard each of its messages (CPU work overlaps the fsync)
 *   3. once the claim is durable, hand them to the transport
 *   4. record each outcome               (written at once; made durable with the next claim;
 *                                         none for a message in doubt: it stays claimed)
 *
 * The in-doubt window is the in-flight window: a group is only as large as
 * the free room under `maxInFlight`, counting claimed messages not yet
 * handed over as in flight, so at any instant the recipients claimed without
 * an outcome are at most `maxInFlight` — one fsync covers a whole group
 * (group commit) without widening what a crash leaves in doubt.
 *
 * A guard violation aborts the whole send ("The per-message guard"): neither the
 * offending message nor any other message of its group is handed over
 * (they are released: never sent, so not in doubt), nothing after it starts.
 */
import type { DeliveryResult } from "../mail/port.ts";
import { Halt, haltDetail, haltOutcome, sleep } from "./halt.ts";
import type { BuiltGroup, Checked, PipelineDeps, PipelineOptions, PipelineResult, SendItem } from "./pipeline-types.ts";
import { AdaptiveRate, backoffMs, CircuitBreaker, DEFAULT_RETRY } from "./policy.ts";

export type * from "./pipeline-types.ts";

/** Below this a rate-limit wait is not slept (a timer's resolution is ~1 ms). */
const TIMER_SLACK_MS = 1;
/** A message waiting for its turn looks at the (adaptive) rate again this often. */
const SLOT_RECHECK_MS = 500;
/** Groups composed ahead of their claims when composing runs on other threads. */
const LOOKAHEAD_GROUPS = 3;

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
    outcome: "completed", halt, sent: 0, dryRunChecked: 0, alreadySent: 0, alreadyFailed: 0, failed: [], inDoubt: [], duplicates: 0,
  };

  const inflight = new Set<Promise<void>>();
  const started = now();
  let launched = 0;
  /** When the last message (or retry) was let go. */
  let lastSlotAt = -Infinity;
  /** The rate, lowered while the relay throttles (docs/design.md, "Sending and relay pushback"). */
  const pace = new AdaptiveRate(opts.rate, started);
  let canaryDone = !opts.canary || opts.canary.size <= 0;

  const progress = () => {
    const elapsed = (now() - started) / 1000;
    const done = result.sent + result.failed.length + result.dryRunChecked;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const left = opts.total - done - result.alreadySent - result.alreadyFailed - result.inDoubt.length;
    const retryable = result.failed.reduce((k, f) => k + (f.permanent ? 0 : 1), 0);
    deps.onProgress?.({
      sent: result.sent, composed: result.dryRunChecked, failed: result.failed.length - retryable, retryable,
      inDoubt: result.inDoubt.length, skipped: result.alreadySent + result.alreadyFailed, inFlight: inflight.size,
      total: opts.total, ratePerSec: rate, etaSec: rate > 0 && left >= 0 ? left / rate : null,
    });
  };
  const timer = deps.onProgress ? setInterval(progress, opts.progressEveryMs ?? 5000) : null;
  timer?.unref();

  /**
   * One message every 1/rate seconds (first attempts and retries alike). A timer cannot wait less
   * than ~1 ms, so a message at most TIMER_SLACK_MS early goes at once: at 10,000/s that is a
   * burst of ≤ 10, and the average holds. Nothing is reserved ahead: a waiter looks again at
   * least every SLOT_RECHECK_MS, so retries queued while the rate was cut go as soon as it rises.
   */
  async function slot(): Promise<void> {
    for (;;) {
      const t = now();
      const due = lastSlotAt + 1000 / pace.rate;
      const wait = due - t;
      if (wait <= TIMER_SLACK_MS) {
        lastSlotAt = Math.max(due, t);
        return;
      }
      await sleep(Math.min(wait, SLOT_RECHECK_MS), halt.signal);
      if (halt.halted) return;
    }
  }

  /**
   * Hands one message over until it has an outcome. Transient failures are retried with backoff
   * until `retry.budgetMs` after the first attempt (a bound in time, not a count: a relay's
   * window is waited out). Relay pushback (mail/port.ts) is not a verdict on the message: throttling
   * slows the whole send and never counts toward the breaker; refused credentials stop the send.
   */
  async function deliver(item: SendItem, out: Checked): Promise<void> {
    const first = now();
    for (let attempt = 1; ; attempt++) {
      let res: DeliveryResult;
      try {
        res = await deps.transport.deliver(out.envelope, out.raw, { messageId: out.messageId });
      } catch (e) {
        // The port promises never to reject; if it does, treat it as transient and keep the recipient retryable.
        res = { ok: false, permanent: false, message: `transport error: ${(e as Error)?.name ?? "unknown"}` };
      }
      if (res.ok) {
        deps.ledger.recordSent(item.fp, out.messageId);
        result.sent++;
        pace.onSuccess(now());
        breaker.record(false);
        return;
      }
      if (res.inDoubt) {
        // The data went out whole and no final reply came (mail/port.ts InDoubt; RFC 5321 §4.1.1.4,
        // RFC 1047): the server may have queued it. Never retried, and no outcome is recorded —
        // neither sent (it may not have been), nor fail (a re-run would retry it), nor release:
        // the recipient stays claimed, which is the ledger's "in doubt", skipped by every re-run
        // until the operator chooses --resend-in-doubt (docs/design.md, "Sent at most once").
        result.inDoubt.push({ fp: item.fp, masked: item.masked, source: "no-final-reply", reason: res.message });
        // Counted as a failure by the circuit breaker: a relay that keeps losing its replies after
        // the data is sick, and each such message widens what an operator must check by hand;
        // halting early is the safe side. (A few lost replies, as in a long send, stay far below
        // the limit.)
        breaker.record(true);
        tripBreaker();
        return;
      }
      if (res.pushback === "auth") {
        // Every message would fail the same way: stop claiming, and leave this one unsent (released).
        deps.ledger.release([item.fp]);
        halt.stop({ kind: "abort", reason: `the relay refused the credentials (${res.message}): fix them in NEWSLETTER_SMTP_URL, then re-run send` });
        return;
      }
      const throttled = res.pushback === "throttled";
      if (throttled) pace.onThrottle(now());
      const wait = backoffMs(retry, attempt, random);
      const giveUp = res.permanent || halt.halted || now() + wait - first > retry.budgetMs;
      if (!giveUp) {
        await sleep(wait, halt.signal);
        if (!halt.halted) await slot();
        if (!halt.halted) continue;
      }
      deps.ledger.recordFailed(item.fp, res.permanent, res.message, res.code);
      result.failed.push({
        fp: item.fp, masked: item.masked, permanent: res.permanent, reason: res.message,
        ...(res.code !== undefined ? { code: res.code } : {}),
      });
      if (throttled) {
        // Not a failure of the message, but the relay has not let it through in the whole budget.
        halt.stop({ kind: "abort", reason: `the relay kept throttling for ${Math.round(retry.budgetMs / 1000)} s (${res.message}): re-run send later` });
        return;
      }
      breaker.record(true);
      tripBreaker();
      return;
    }
  }

  function tripBreaker(): void {
    if (breaker.open) {
      halt.stop({
        kind: "abort",
        reason: `circuit breaker: ${(breaker.rate * 100).toFixed(1)} % of the last ${breaker.samples} messages failed or are in doubt (limit ${(opts.maxFailureRate * 100).toFixed(1)} %)`,
      });
    }
  }

  async function drain(): Promise<void> {
    while (inflight.size > 0) await Promise.race(inflight);
  }

  const iterator: AsyncIterator<SendItem> | Iterator<SendItem> =
    Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<SendItem>)[Symbol.iterator]();

  /**
   * Recipients in a group not yet claimed. With the ledger's states (updated when a claim is
   * made) this is the last guard against a recipient listed twice (the checks refuse duplicates;
   * the list is streamed without a set of every address): every recipient is in one of the two
   * from the moment its group is formed. A dry run claims nothing, so it keeps them all.
   */
  const forming = new Set<string>();

  /** The next recipient to send, skipping those the ledger already settled; null at the end. */
  async function nextToSend(): Promise<SendItem | null> {
    for (;;) {
      const step = await iterator.next();
      if (step.done) return null;
      const item = step.value;
      const st = states.get(item.fp);
      if (forming.has(item.fp)) result.duplicates++;
      else if (st === "sent") result.alreadySent++;
      else if (st === "failed-permanent") result.alreadyFailed++;
      else if (st === "claimed" && !opts.resendInDoubt) result.inDoubt.push({ fp: item.fp, masked: item.masked, source: "earlier-run" });
      else return item;
    }
  }

  /** Composes and guards a group on this thread, stopping at the first message the guard refuses. */
  function buildHere(group: readonly SendItem[]): BuiltGroup {
    const messages: Checked[] = [];
    for (const item of group) {
      const out = item.build();
      const verdict = deps.guard(out.raw, out.envelope, out.guard);
      if (!verdict.ok) return { messages, violation: verdict };
      messages.push(out);
    }
    return { messages };
  }

  /** A guard violation aborts the whole send (docs/design.md, "The per-message guard"). Returns the messages to hand over, or null. */
  function verdictOf(built: BuiltGroup): Checked[] | null {
    if (built.violation === undefined) return built.messages;
    const v = built.violation;
    result.guardViolation ??= v;
    halt.stop({ kind: "abort", reason: `guard: ${v.reason} in ${v.where} (${v.masked})` });
    return null;
  }

  /** Claimed (or being claimed) and not yet handed over or released: counts against maxInFlight. */
  let reserved = 0;
  /** Hand-overs run one after another, in list order; false once the send must stop. Never rejects. */
  let chain: Promise<boolean> = Promise.resolve(true);
  const handovers = new Set<Promise<unknown>>();
  /** The first failure of a hand-over (a claim that could not be written, a message that could not be composed). */
  let failure: { error: unknown } | null = null;

  /** After its claim is durable, hands a built group to the transport, rate-limited; releases what it does not hand over. */
  async function handOver(group: readonly SendItem[], built: Promise<Checked[] | null>, claimed: Promise<void> | null, go: boolean): Promise<boolean> {
    const fps = group.map((g) => g.fp);
    let left = group.length;
    const release = () => {
      if (!opts.dryRun && left > 0) deps.ledger.release(fps.slice(group.length - left));
      reserved -= left;
      left = 0;
    };
    try {
      const outs = await built;
      await claimed;
      if (!go || outs === null || halt.halted) return false;
      for (let i = 0; i < group.length; i++) {
        // A dry run hands nothing to the relay, so nothing limits it: it composes at full speed
        // (docs/design.md, "Scheduling and continuation").
        if (!opts.dryRun) await slot();
        if (halt.halted) return false;
        launched++;
        reserved--;
        left--;
        if (opts.dryRun) {
          result.dryRunChecked++;
        } else {
          const p: Promise<void> = deliver(group[i]!, outs[i]!).finally(() => inflight.delete(p));
          inflight.add(p);
        }
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
      return !halt.halted;
    } finally {
      release();
    }
  }

  /**
   * A group is claimed once it fits in the free half of the window (or nothing is claimed at
   * all): claims of one recipient each would cost a line and an fsync wait per message, and two
   * half-window groups keep the pool busy while the next claim is made durable.
   */
  const groupSize = Math.max(1, Math.min(opts.batchSize, Math.ceil(opts.maxInFlight / 2)));
  async function waitForRoom(): Promise<void> {
    while (inflight.size + reserved > opts.maxInFlight - groupSize && inflight.size + reserved > 0) {
      await Promise.race([...inflight, ...handovers]);
    }
  }

  /** Recipients put into groups so far: the canary is cut to its exact size. */
  let formed = 0;
  async function formGroup(): Promise<SendItem[] | null> {
    let size = groupSize;
    if (opts.canary && formed < opts.canary.size) size = Math.min(size, opts.canary.size - formed);
    const group: SendItem[] = [];
    while (group.length < size) {
      const item = await nextToSend();
      if (item === null) break;
      group.push(item);
      forming.add(item.fp);
    }
    formed += group.length;
    return group.length > 0 ? group : null;
  }

  function startBuild(group: readonly SendItem[]): Promise<Checked[] | null> {
    let built: Promise<Checked[] | null>;
    if (deps.buildGroup) {
      built = deps.buildGroup(group).then(verdictOf);
    } else {
      try {
        built = Promise.resolve(verdictOf(buildHere(group)));
      } catch (e) {
        built = Promise.reject(e);
      }
    }
    // Not awaited here: a failure surfaces through the hand-over (which releases the group).
    built.catch(() => undefined);
    return built;
  }

  /**
   * Compose threads work ahead of the claims: composing needs no claim, only handing over does,
   * so a few groups are composed and guarded while earlier ones are claimed and sent. (A guard
   * violation found ahead still aborts before its group is claimed.) On this thread there is
   * nothing to gain: a group is composed while its claim's fsync runs.
   */
  const lookahead = deps.buildGroup ? LOOKAHEAD_GROUPS : 0;
  const ahead: Array<{ group: SendItem[]; built: Promise<Checked[] | null> }> = [];
  let exhausted = false;
  async function fillAhead(): Promise<void> {
    while (!exhausted && ahead.length < lookahead && !halt.halted) {
      const group = await formGroup();
      if (group === null) exhausted = true;
      else ahead.push({ group, built: startBuild(group) });
    }
  }

  try {
    for (;;) {
      if (halt.halted || failure) break;
      await fillAhead();
      await waitForRoom();
      if (halt.halted || failure) break;
      if (!canaryDone && launched + reserved >= opts.canary!.size) {
        // Nothing past the canary is claimed before the pause is over: the pause never holds
        // claims of unsent recipients.
        if (!(await chain)) break;
        continue;
      }
      const next = ahead.shift();
      const group = next?.group ?? (exhausted ? null : await formGroup());
      if (group === null) break;
      reserved += group.length;
      // The claim is written now and made durable on the thread pool while the group is composed and
      // guarded (here, or on compose threads); claims made while one fsync runs share the next (ledger.ts).
      const claimed = opts.dryRun ? null : deps.ledger.claim(group.map((g) => g.fp));
      if (!opts.dryRun) for (const g of group) forming.delete(g.fp); // the ledger's states hold them now
      const built = next?.built ?? startBuild(group);
      // After a failure every later group is released, not sent (go = false).
      const h: Promise<boolean> = chain
        .then((go) => handOver(group, built, claimed, go && failure === null))
        .catch((error: unknown) => {
          failure ??= { error };
          return false;
        });
      chain = h;
      handovers.add(h);
      void h.finally(() => handovers.delete(h));
    }
    await chain;
    await drain();
    if (failure) throw (failure as { error: unknown }).error;
  } finally {
    await chain.catch(() => undefined);
    await drain().catch(() => undefined);
    if (timer) clearInterval(timer);
    progress();
  }
  result.outcome = haltOutcome(halt.cause);
  if (!opts.dryRun) await deps.ledger.end(result.outcome, haltDetail(halt.cause));
  return result;
}
