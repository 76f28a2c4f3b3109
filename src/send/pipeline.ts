/**
 * The send loop: ledger-aware, guarded, rate-limited, bounded in flight,
 * retrying transient failures (never one in doubt), stopped by the breaker,
 * the guard or a signal. Its steps live in src/send/loop/ and share one
 * state object (loop/state.ts):
 *
 *   select   (select.ts)    the next group of recipients the ledger has not settled
 *   claim    (handover.ts)  claim the group durably    (a crash after this: in doubt, never resent silently)
 *   build    (build.ts)     meanwhile compose and guard each of its messages (CPU work overlaps the fsync)
 *   hand over (handover.ts) once the claim is durable, hand them to the transport, paced (pace.ts)
 *   deliver  (deliver.ts)   one message until it has an outcome, retried while transient
 *   record   (record.ts)    each outcome (written at once; made durable with the next claim;
 *                           none for a message in doubt: it stays claimed)
 *   decide   (decide.ts)    halt or continue; the ledger's end record
 *
 * Order per group: docs/design.md, "The ledger". The in-doubt window is the
 * in-flight window: a group is only as large as the free room under
 * `maxInFlight`, counting claimed messages not yet handed over as in flight,
 * so at any instant the recipients claimed without an outcome are at most
 * `maxInFlight` — one fsync covers a whole group (group commit) without
 * widening what a crash leaves in doubt (docs/design.md, "Sent at most once").
 *
 * A guard violation aborts the whole send ("The per-message guard"): neither the
 * offending message nor any other message of its group is handed over
 * (they are released: never sent, so not in doubt), nothing after it starts.
 */
import type { Halt } from "./halt.ts";
import { canaryHolds, finish, mustStop } from "./loop/decide.ts";
import { dispatchGroup, drain, waitForRoom } from "./loop/handover.ts";
import { progressOf } from "./loop/progress.ts";
import { fillAhead, nextGroup } from "./loop/select.ts";
import { newLoopState, type LoopState } from "./loop/state.ts";
import type { PipelineDeps, PipelineOptions, PipelineResult, SendItem } from "./pipeline-types.ts";

export type * from "./pipeline-types.ts";

export async function runPipeline(
  items: AsyncIterable<SendItem> | Iterable<SendItem>,
  deps: PipelineDeps,
  opts: PipelineOptions,
  halt: Halt,
): Promise<PipelineResult> {
  const loop = newLoopState(items, deps, opts, halt);
  const report = () => deps.onProgress?.(progressOf(loop));
  const timer = deps.onProgress ? setInterval(report, opts.progressEveryMs ?? 5000) : null;
  timer?.unref();
  try {
    await sendGroups(loop);
    await loop.chain;
    await drain(loop);
    if (loop.failure) throw loop.failure.error;
  } finally {
    await loop.chain.catch(() => undefined);
    await drain(loop).catch(() => undefined);
    if (timer) clearInterval(timer);
    report();
  }
  return finish(loop);
}

/** Claims and queues group after group until the list ends or the send must stop. */
async function sendGroups(loop: LoopState): Promise<void> {
  for (;;) {
    if (mustStop(loop)) return;
    await fillAhead(loop);
    await waitForRoom(loop);
    if (mustStop(loop)) return;
    if (canaryHolds(loop)) {
      if (!(await loop.chain)) return;
      continue;
    }
    const next = await nextGroup(loop);
    if (next === null) return;
    dispatchGroup(loop, next.group, next.built);
  }
}
