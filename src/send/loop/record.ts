/**
 * The send loop's record step: one delivery outcome into the ledger, this run's result, the
 * rate and the circuit breaker — and the stops an outcome calls for (docs/design.md, "Sent at
 * most once", "Sending and relay pushback").
 */
import type { InDoubt, NotDelivered } from "../../mail/port.ts";
import type { Checked, SendItem } from "../pipeline-types.ts";
import type { LoopState } from "./state.ts";

export function recordSent(loop: LoopState, item: SendItem, out: Checked): void {
  loop.deps.ledger.recordSent(item.fp, out.messageId);
  loop.result.sent++;
  loop.pace.onSuccess(loop.now());
  loop.breaker.record(false);
}

/**
 * The data went out whole and no final reply came (mail/port.ts InDoubt; RFC 5321 §4.1.1.4, RFC
 * 1047): the server may have queued it. No outcome is recorded — neither sent (it may not have
 * been), nor fail (a re-run would retry it), nor release: the recipient stays claimed, which is
 * the ledger's "in doubt", skipped by every re-run until the operator chooses --resend-in-doubt.
 */
export function recordInDoubt(loop: LoopState, item: SendItem, res: InDoubt): void {
  loop.result.inDoubt.push({ fp: item.fp, masked: item.masked, source: "no-final-reply", reason: res.message });
  // Counted as a failure by the circuit breaker: a relay that keeps losing its replies after
  // the data is sick, and each such message widens what an operator must check by hand;
  // halting early is the safe side. (A few lost replies, as in a long send, stay far below
  // the limit.)
  countFailure(loop);
}

/** Refused credentials: every message would fail the same way. Stop claiming, and leave this one unsent (released). */
export function stopForCredentials(loop: LoopState, item: SendItem, res: NotDelivered): void {
  loop.deps.ledger.release([item.fp]);
  loop.halt.stop({ kind: "abort", reason: `the relay refused the credentials (${res.message}): fix them in NEWSLETTER_SMTP_URL, then re-run send` });
}

/**
 * A refusal that stands: refused for good, or retried until the budget (or the send) ran out.
 * Throttling to the end is not a failure of the message, but the relay has not let it through
 * in the whole budget: the send stops, to be re-run later.
 */
export function recordFailed(loop: LoopState, item: SendItem, res: NotDelivered): void {
  loop.deps.ledger.recordFailed(item.fp, res.permanent, res.message, res.code);
  loop.result.failed.push({
    fp: item.fp, masked: item.masked, permanent: res.permanent, reason: res.message,
    ...(res.code !== undefined ? { code: res.code } : {}),
  });
  if (res.pushback === "throttled") {
    loop.halt.stop({ kind: "abort", reason: `the relay kept throttling for ${Math.round(loop.retry.budgetMs / 1000)} s (${res.message}): re-run send later` });
    return;
  }
  countFailure(loop);
}

/** One more failure for the circuit breaker; stops the send when it opens. */
export function countFailure(loop: LoopState): void {
  const { breaker } = loop;
  breaker.record(true);
  if (breaker.open) {
    loop.halt.stop({
      kind: "abort",
      reason: `circuit breaker: ${(breaker.rate * 100).toFixed(1)} % of the last ${breaker.samples} messages failed or are in doubt (limit ${(loop.opts.maxFailureRate * 100).toFixed(1)} %)`,
    });
  }
}

