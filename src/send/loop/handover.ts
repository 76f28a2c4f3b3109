/**
 * The send loop's claim and hand-over steps (docs/design.md, "The ledger", "Sent at most once"):
 * a group is claimed durably, composed and guarded meanwhile, and handed to the transport only
 * once both are done, one group after another in list order. What is not handed over is released.
 */
import { sleep } from "../halt.ts";
import type { Checked, SendItem } from "../pipeline-types.ts";
import { startBuild } from "./build.ts";
import { deliver } from "./deliver.ts";
import { takeSlot } from "./pace.ts";
import type { LoopState } from "./state.ts";

/** Writes the group's claim (durable when the promise resolves); null in a dry run, which claims nothing. */
export function claimGroup(loop: LoopState, group: readonly SendItem[]): Promise<void> | null {
  if (loop.opts.dryRun) return null;
  const claimed = loop.deps.ledger.claim(group.map((g) => g.fp));
  for (const g of group) loop.forming.delete(g.fp); // the ledger's states hold them now
  return claimed;
}

/**
 * Claims a group, starts composing it (unless it was composed ahead), and queues its hand-over
 * behind the previous group's. The claim is written now and made durable on the thread pool
 * while the group is composed and guarded; claims made while one fsync runs share the next
 * (ledger.ts). After a failure every later group is released, not sent.
 */
export function dispatchGroup(loop: LoopState, group: SendItem[], builtAhead?: Promise<Checked[] | null>): void {
  loop.reserved += group.length;
  const claimed = claimGroup(loop, group);
  const built = builtAhead ?? startBuild(loop, group);
  const h: Promise<boolean> = loop.chain
    .then((go) => handOver(loop, group, built, claimed, go && loop.failure === null))
    .catch((error: unknown) => {
      loop.failure ??= { error };
      return false;
    });
  loop.chain = h;
  loop.handovers.add(h);
  void h.finally(() => loop.handovers.delete(h));
}

/**
 * After its claim is durable, hands a built group to the transport, one message per turn under
 * the rate; releases what it does not hand over. False when the send must stop.
 */
export async function handOver(
  loop: LoopState,
  group: readonly SendItem[],
  built: Promise<Checked[] | null>,
  claimed: Promise<void> | null,
  go: boolean,
): Promise<boolean> {
  let handed = 0;
  try {
    const outs = await built;
    await claimed;
    if (!go || outs === null || loop.halt.halted) return false;
    for (; handed < group.length; handed++) {
      // A dry run hands nothing to the relay, so nothing limits it: it composes at full speed
      // (docs/design.md, "Scheduling and continuation").
      if (!loop.opts.dryRun) await takeSlot(loop);
      if (loop.halt.halted) return false;
      launch(loop, group[handed]!, outs[handed]!);
    }
    await pauseAfterCanary(loop);
    return !loop.halt.halted;
  } finally {
    releaseUnsent(loop, group.slice(handed));
  }
}

/** One message let go: handed to the transport (settled in the background), or counted in a dry run. */
export function launch(loop: LoopState, item: SendItem, out: Checked): void {
  loop.launched++;
  loop.reserved--;
  if (loop.opts.dryRun) {
    loop.result.dryRunChecked++;
    return;
  }
  const p: Promise<void> = deliver(loop, item, out).finally(() => loop.inflight.delete(p));
  loop.inflight.add(p);
}

/** Claimed and never handed over: not in doubt. */
export function releaseUnsent(loop: LoopState, rest: readonly SendItem[]): void {
  if (!loop.opts.dryRun && rest.length > 0) loop.deps.ledger.release(rest.map((g) => g.fp));
  loop.reserved -= rest.length;
}

/**
 * Once the canary is out: waits for its outcomes, makes them durable, and pauses (unless the
 * send halted) so that an operator can look at it and cancel.
 */
export async function pauseAfterCanary(loop: LoopState): Promise<void> {
  const canary = loop.opts.canary;
  if (loop.canaryDone || canary === undefined || loop.launched < canary.size) return;
  loop.canaryDone = true;
  await drain(loop);
  await loop.deps.ledger.flush();
  if (!loop.halt.halted && !loop.opts.dryRun) {
    loop.deps.onCanaryPause?.(loop.result.sent, canary.pauseMs);
    await sleep(canary.pauseMs, loop.halt.signal);
  }
}

/**
 * Waits until a group fits in the window: claimed without an outcome (in flight, or reserved
 * and not yet handed over) stays at most `maxInFlight`, which bounds what a crash leaves in doubt.
 */
export async function waitForRoom(loop: LoopState): Promise<void> {
  const room = loop.opts.maxInFlight - loop.groupSize;
  while (loop.inflight.size + loop.reserved > room && loop.inflight.size + loop.reserved > 0) {
    await Promise.race([...loop.inflight, ...loop.handovers]);
  }
}

/** Waits for every delivery in flight to settle. */
export async function drain(loop: LoopState): Promise<void> {
  while (loop.inflight.size > 0) await Promise.race(loop.inflight);
}
