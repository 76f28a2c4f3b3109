/** The send loop's progress line: counts of this run so far, in the words of vocabulary.ts. */
import type { Progress } from "../pipeline-types.ts";
import type { LoopState } from "./state.ts";

export function progressOf(loop: LoopState): Progress {
  const { result, opts } = loop;
  const elapsed = (loop.now() - loop.started) / 1000;
  const done = result.sent + result.failed.length + result.dryRunChecked;
  const rate = elapsed > 0 ? done / elapsed : 0;
  const left = opts.total - done - result.alreadySent - result.alreadyFailed - result.inDoubt.length;
  const retryable = result.failed.reduce((k, f) => k + (f.permanent ? 0 : 1), 0);
  return {
    sent: result.sent, composed: result.dryRunChecked, failed: result.failed.length - retryable, retryable,
    inDoubt: result.inDoubt.length, skipped: result.alreadySent + result.alreadyFailed, inFlight: loop.inflight.size,
    total: opts.total, ratePerSec: rate, etaSec: rate > 0 && left >= 0 ? left / rate : null,
  };
}
