/**
 * Where a send keeps its ledger, chosen once from the environment:
 *
 * - NEWSLETTER_STATE_BRANCH unset: the local state folder (FsLedgerStore) —
 *   enough on one machine, lost with an Actions runner;
 * - NEWSLETTER_STATE_BRANCH set (the send workflow): the state folder is a
 *   worktree of that branch and the ledger is written through
 *   GitLedgerStore, so every claim is pushed before its batch is sent and a
 *   re-run on a fresh runner resumes exactly (docs/design.md, "The ledger").
 *
 * The remote is NEWSLETTER_STATE_REMOTE, else `origin`: in the workflow the
 * state folder is checked out by actions/checkout with its credentials, so
 * `origin` there can push; a fresh folder needs the URL or path.
 */
import { FsLedgerStore, ledgerPath } from "../ledger/fs-store.ts";
import type { LedgerStore } from "../ledger/store.ts";
import { openStateBranch, type StateBranch } from "./git-branch.ts";
import { GitLedgerStore, stateLedgerPath } from "./git-ledger-store.ts";

/** github-actions[bot]: the author GitHub shows for workflow commits (its noreply address, not a person's). */
export const STATE_BOT = { name: "github-actions[bot]", email: "41898282+github-actions[bot]@users.noreply.github.com" } as const;

export interface StateSettings {
  /** The state folder: plain, or the branch's worktree. */
  readonly dir: string;
  /** Null: local folder only. */
  readonly branch: { readonly name: string; readonly remote: string } | null;
}

export function stateSettingsFromEnv(env: NodeJS.ProcessEnv, dir: string): StateSettings {
  const name = env.NEWSLETTER_STATE_BRANCH?.trim();
  if (!name) return { dir, branch: null };
  return { dir, branch: { name, remote: env.NEWSLETTER_STATE_REMOTE?.trim() || "origin" } };
}

/** The ledger stores of one send, over a state branch opened (and fetched) once. */
export interface LedgerPlace {
  /** The store of one newsletter's shard. */
  storeFor(id: string, shard: string): LedgerStore;
}

/**
 * Opens the state: for a branch, initialises or recovers the worktree at the
 * remote's tip, so the state folder (history of earlier sends, ledgers) is the
 * branch's before anything reads it. Throws StateBranchError (exit 2) when
 * the branch cannot be read: no send without its ledger.
 */
export async function openLedgerPlace(s: StateSettings): Promise<LedgerPlace> {
  if (s.branch === null) {
    return { storeFor: (id, shard) => new FsLedgerStore(ledgerPath(s.dir, id, shard)) };
  }
  // Opening fetches the tip (a fresh folder is reset to it, a reused worktree recovered onto it):
  // no second fetch needed before the checks read the branch's history.
  const branch: StateBranch = await openStateBranch({ remote: s.branch.remote, branch: s.branch.name, dir: s.dir, author: STATE_BOT });
  return { storeFor: (id, shard) => new GitLedgerStore(branch, stateLedgerPath(id, shard)) };
}
