/** The send loop's halt-or-continue decisions, and its end (docs/design.md, "Sent at most once"). */
import { haltDetail, haltOutcome } from "../halt.ts";
import type { PipelineResult } from "../pipeline-types.ts";
import type { LoopState } from "./state.ts";

/** No new group is started: the send halted, or a hand-over failed. */
export function mustStop(loop: LoopState): boolean {
  return loop.halt.halted || loop.failure !== null;
}

/**
 * Nothing past the canary is claimed before the pause is over: the pause never holds claims of
 * unsent recipients. True while the loop must wait for the canary's hand-over instead.
 */
export function canaryHolds(loop: LoopState): boolean {
  return !loop.canaryDone && loop.launched + loop.reserved >= loop.opts.canary!.size;
}

/** The outcome from the halt's cause, and (unless a dry run) the ledger's end record. */
export async function finish(loop: LoopState): Promise<PipelineResult> {
  const { result, halt } = loop;
  result.outcome = haltOutcome(halt.cause);
  if (!loop.opts.dryRun) await loop.deps.ledger.end(result.outcome, haltDetail(halt.cause));
  return result;
}
