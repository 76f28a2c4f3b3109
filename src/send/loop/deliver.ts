/**
 * The send loop's deliver step: one message handed over until it has an outcome
 * (docs/design.md, "Sending and relay pushback"). Transient failures are retried with backoff
 * until `retry.budgetMs` after the first attempt (a bound in time, not a count: a relay's
 * window is waited out). Relay pushback (mail/port.ts) is not a verdict on the message: throttling
 * slows the whole send and never counts toward the breaker; refused credentials stop the send.
 * A message in doubt is never retried.
 */
import type { DeliveryResult, NotDelivered } from "../../mail/port.ts";
import { sleep } from "../halt.ts";
import type { Checked, SendItem } from "../pipeline-types.ts";
import { backoffMs } from "../policy.ts";
import { takeSlot } from "./pace.ts";
import { recordFailed, recordInDoubt, recordSent, stopForCredentials } from "./record.ts";
import type { LoopState } from "./state.ts";

export async function deliver(loop: LoopState, item: SendItem, out: Checked): Promise<void> {
  const first = loop.now();
  for (let attempt = 1; ; attempt++) {
    let res: DeliveryResult;
    try {
      res = await loop.deps.transport.deliver(out.envelope, out.raw, { messageId: out.messageId });
    } catch (e) {
      res = transportError(e);
    }
    if (res.ok) return recordSent(loop, item, out);
    if (res.inDoubt) return recordInDoubt(loop, item, res);
    if (res.pushback === "auth") return stopForCredentials(loop, item, res);
    if (res.pushback === "throttled") loop.pace.onThrottle(loop.now());
    const wait = retryDelay(loop, res, attempt, first);
    if (wait !== null && (await waitToRetry(loop, wait))) continue;
    return recordFailed(loop, item, res);
  }
}

/**
 * How long to wait before attempt `attempt + 1` of a refused message, or null to give up: a
 * permanent refusal, a halted send, or a wait that would end past the budget from `first`.
 */
export function retryDelay(loop: LoopState, res: NotDelivered, attempt: number, first: number): number | null {
  const wait = backoffMs(loop.retry, attempt, loop.random);
  const giveUp = res.permanent || loop.halt.halted || loop.now() + wait - first > loop.retry.budgetMs;
  return giveUp ? null : wait;
}

/** Sleeps out the backoff, then waits for a turn under the rate; false when the send halted meanwhile. */
async function waitToRetry(loop: LoopState, wait: number): Promise<boolean> {
  await sleep(wait, loop.halt.signal);
  if (!loop.halt.halted) await takeSlot(loop);
  return !loop.halt.halted;
}

/** The port promises never to reject; if it does, treat it as transient and keep the recipient retryable. */
export function transportError(e: unknown): DeliveryResult {
  return { ok: false, permanent: false, message: `transport error: ${(e as Error)?.name ?? "unknown"}` };
}
