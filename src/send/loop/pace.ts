/** The send loop's pacing step (docs/design.md, "Sending and relay pushback"). */
import { sleep } from "../halt.ts";
import type { LoopState } from "./state.ts";

/** Below this a rate-limit wait is not slept (a timer's resolution is ~1 ms). */
export const TIMER_SLACK_MS = 1;
/** A message waiting for its turn looks at the (adaptive) rate again this often. */
export const SLOT_RECHECK_MS = 500;

/**
 * Resolves when the next message may go: one every 1/rate seconds (first attempts and retries
 * alike), or at once when the send halts. A timer cannot wait less than ~1 ms, so a message at
 * most TIMER_SLACK_MS early goes at once: at 10,000/s that is a burst of ≤ 10, and the average
 * holds. Nothing is reserved ahead: a waiter looks again at least every SLOT_RECHECK_MS, so
 * retries queued while the rate was cut go as soon as it rises.
 */
export async function takeSlot(loop: LoopState): Promise<void> {
  for (;;) {
    const t = loop.now();
    const due = loop.lastSlotAt + 1000 / loop.pace.rate;
    const wait = due - t;
    if (wait <= TIMER_SLACK_MS) {
      loop.lastSlotAt = Math.max(due, t);
      return;
    }
    await sleep(Math.min(wait, SLOT_RECHECK_MS), loop.halt.signal);
    if (loop.halt.halted) return;
  }
}
