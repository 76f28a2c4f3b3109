/**
 * Whether a send must be continued by another run (docs/design.md,
 * "Scheduling and continuation"), decided from what its ledgers recorded,
 * not from exit codes carried between jobs: a shard whose last run stopped
 * because its time budget was spent (exit 75) and that no run completed
 * since. A shard halted by a signal or aborted (guard, breaker) is not
 * continued by itself: a person decides.
 */
export interface ShardEnd {
  shard: string;
  /** The last end record's outcome, or null when the run died without one. */
  ended: "completed" | "halted" | "aborted" | null;
  detail?: string;
}

const BUDGET = /^time budget of /;

export function needsContinuation(shards: readonly ShardEnd[]): boolean {
  if (shards.some((s) => s.ended === "aborted")) return false;
  return shards.some((s) => s.ended === "halted" && BUDGET.test(s.detail ?? ""));
}

/** The workflow's shard matrix for `sending.shards: N`: `--shard` values 1/N … N/N, or one job for the whole list. */
export function shardMatrix(shards: number | undefined): string[] {
  const n = shards ?? 1;
  if (n <= 1) return ["all"];
  return Array.from({ length: n }, (_, i) => `${i + 1}/${n}`);
}
