/**
 * The send loop's first step: which recipients go next, in groups of one claim each. The
 * ledger's states decide who is skipped (docs/design.md, "Sent at most once").
 */
import type { Checked, SendItem } from "../pipeline-types.ts";
import { startBuild } from "./build.ts";
import type { LoopState } from "./state.ts";

/** The next recipient to send, counting (not returning) those the ledger already settled; null at the end. */
export async function nextToSend(loop: LoopState): Promise<SendItem | null> {
  const { result, forming } = loop;
  const states = loop.deps.ledger.state.recipients;
  for (;;) {
    const step = await loop.items.next();
    if (step.done) return null;
    const item = step.value;
    const st = states.get(item.fp);
    if (forming.has(item.fp)) result.duplicates++;
    else if (st === "sent") result.alreadySent++;
    else if (st === "failed-permanent") result.alreadyFailed++;
    else if (st === "claimed" && !loop.opts.resendInDoubt) result.inDoubt.push({ fp: item.fp, masked: item.masked, source: "earlier-run" });
    else return item;
  }
}

/** The next group of up to `groupSize` recipients (the canary's group cut to its exact size); null at the end. */
export async function formGroup(loop: LoopState): Promise<SendItem[] | null> {
  const canary = loop.opts.canary;
  let size = loop.groupSize;
  if (canary && loop.formed < canary.size) size = Math.min(size, canary.size - loop.formed);
  const group: SendItem[] = [];
  while (group.length < size) {
    const item = await nextToSend(loop);
    if (item === null) break;
    group.push(item);
    loop.forming.add(item.fp);
  }
  loop.formed += group.length;
  return group.length > 0 ? group : null;
}

/**
 * Compose threads work ahead of the claims: composing needs no claim, only handing over does,
 * so up to `lookahead` groups are composed and guarded while earlier ones are claimed and sent.
 * (A guard violation found ahead still aborts before its group is claimed.)
 */
export async function fillAhead(loop: LoopState): Promise<void> {
  while (!loop.exhausted && loop.ahead.length < loop.lookahead && !loop.halt.halted) {
    const group = await formGroup(loop);
    if (group === null) loop.exhausted = true;
    else loop.ahead.push({ group, built: startBuild(loop, group) });
  }
}

/** The group to claim next: the oldest composed ahead, else a new one (its build not started); null at the end. */
export async function nextGroup(loop: LoopState): Promise<{ group: SendItem[]; built?: Promise<Checked[] | null> } | null> {
  const next = loop.ahead.shift();
  if (next) return next;
  const group = loop.exhausted ? null : await formGroup(loop);
  return group === null ? null : { group };
}
