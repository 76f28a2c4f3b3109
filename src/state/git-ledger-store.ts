/**
 * LedgerStore on the `newsletter-state` branch: what lets a re-run of a
 * killed Actions job — on a fresh runner, with nothing left on disk — resume
 * exactly (docs/design.md, "The ledger": claims pushed before their batch is sent).
 *
 * The file is `ledger/<id>/<shard>.jsonl` in the branch, the same layout as
 * the local state folder (src/ledger/fs-store.ts), so FsHistory pointed at
 * the worktree directory reads the branch's begin records unchanged.
 *
 * Durability, mapped onto the LedgerStore contract:
 * - `append(lines, false)` (every outcome) writes to the worktree file only,
 *   at once, also while a push is in flight (it does not wait for the push;
 *   the push in flight does not count it, the next one takes it along):
 *   it survives kill -9 of this process but not the loss of the runner. The
 *   local file therefore always holds every outcome; the remote holds them
 *   up to the last durable append.
 * - `append(lines, true)` (the begin record, every claim, the end record,
 *   each `Ledger.flush`) commits everything since the last push and pushes
 *   it; it resolves only once the remote branch holds it.
 *
 * Cost: one push per claim batch (plus one for begin and one for end):
 * three git processes and one network round trip (bench/README.md, "Figures behind the code"),
 * more when shards race (each lost race adds a fetch and a
 * replay). The send loop waits for it before sending the batch, so the batch
 * size bounds throughput at roughly batch ÷ push time: keep batches large
 * enough (hundreds) when this store is used. Outcomes lost with a dead
 * runner leave their recipients claimed, i.e. in doubt — never sent twice
 * silently, never marked sent without being sent.
 */
import type { LedgerStore } from "../ledger/store.ts";
import type { StateBranch } from "./git-branch.ts";

/** The path of a ledger inside the state branch. */
export function stateLedgerPath(id: string, shard: string): string {
  return `ledger/${id}/${shard}.jsonl`;
}

/** The part of the state branch a ledger needs. */
export type LedgerBranch = Pick<StateBranch, "branch" | "read" | "write" | "append" | "refresh" | "commitAndPush">;

export class GitLedgerStore implements LedgerStore {
  constructor(
    private readonly state: LedgerBranch,
    /** Path in the branch, e.g. `stateLedgerPath(id, shard)`. */
    readonly file: string,
  ) {}

  get name(): string {
    return `${this.state.branch}:${this.file}`;
  }

  /**
   * Fetches first, so a fresh runner sees what the killed job pushed; local
   * lines not yet pushed (a re-run in the same worktree) are kept on top.
   */
  async read(): Promise<string> {
    await this.state.refresh();
    return (await this.state.read(this.file)) ?? "";
  }

  async append(lines: string, durable = true): Promise<void> {
    if (lines !== "") await this.state.append(this.file, lines);
    if (durable) await this.state.commitAndPush(`ledger ${this.file}`);
  }

  /** Rewrites the local file; the cut reaches the remote with the next durable append (the begin record or the first claim). */
  async truncateTo(keepChars: number): Promise<void> {
    const text = (await this.state.read(this.file)) ?? "";
    if (keepChars >= text.length) return;
    await this.state.write(this.file, text.slice(0, keepChars));
  }

  /** Nothing to release. Lines appended without `durable` after the last durable append stay local (Ledger.close flushes durably). */
  async close(): Promise<void> {}
}
