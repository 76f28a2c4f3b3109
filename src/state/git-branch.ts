/**
 * The `newsletter-state` branch (docs/design.md, "The ledger", "The audit
 * record"): a branch of the newsletter repository, with no history in common
 * with the code, holding the ledgers and the audit records. Several jobs push
 * to it at once (a shard matrix; an audit step beside a send), each writing
 * its own files, so the adapter is built for contention, not for merging:
 *
 * - Every change is recorded as an operation (write a file, append to a file)
 *   besides being applied to a private worktree. A push that loses the race
 *   (non-fast-forward) does not rebase or merge: it fetches the new tip,
 *   resets to it and replays the operations not yet pushed. Replaying an
 *   append onto another job's newer version of the tree is conflict-free
 *   because no two jobs write the same file (one ledger per newsletter and
 *   shard, one audit record per newsletter and shard).
 * - History stays linear and commits stay small; fetches are `--depth=1`, so
 *   a branch with thousands of checkpoint commits costs one tree to fetch.
 * - A push is three local-plus-network git processes (add, commit, push);
 *   each lost race adds fetch, rev-parse and reset. Retries are bounded, with
 *   full-jitter backoff so a matrix of shards does not retry in lockstep.
 * - The remote URL (which may carry a token) is passed on each fetch/push and
 *   never written to .git/config; every message is scrubbed of credentials.
 * - Changes to the worktree (append, write) do not wait for a push: a push
 *   is a network round trip, and the ledger's outcomes must be on disk
 *   at once (a kill -9 in the meantime would otherwise turn sent recipients
 *   into "in doubt"). Two locks keep the bookkeeping exact:
 *   `serial` runs the git work (commitAndPush, refresh) one at a time;
 *   `exclusive` orders every worktree change and holds off changes during
 *   the short local steps that read or rewrite the files (`git add`, and
 *   reset + replay after a lost race) — never during a fetch or a push.
 *   Each change is numbered; `git add` records the highest number it saw,
 *   so a push settles exactly the changes its commit holds, and a change made
 *   after `git add` stays pending for the next push (and is replayed, in
 *   order, if the reset of a lost race rewrites its file).
 *
 * The worktree directory is dedicated to this adapter: it must be absent,
 * empty, or a worktree this adapter made earlier (a re-run on the same
 * self-hosted runner), in which case local appends the remote lacks are kept
 * (see `recovered`).
 */
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { redact } from "../address/redact.ts";
import { GitCommandError, StateBranchError } from "./errors.ts";
import { runGit, scrubCredentials, urlSecrets, type GitResult } from "./git-run.ts";

/** git's well-known empty tree (SHA-1 repositories, which `git init` makes by default). */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";


/** git's words for a lock another process holds (LC_ALL=C, git-run.ts): index, ref or config. */
const LOCKED = /Unable to create '([^']*\.lock)': File exists|cannot lock ref|could not lock config file/u;
/** About 5 s of waiting in all (0.2, 0.4, 0.8, 1.6, 2 s) before a lock counts as stale. */
const LOCK_ATTEMPTS = 6;

export interface StateAuthor {
  name: string;
  /** Only ever written into commit objects; never printed. */
  email: string;
}

export interface OpenStateBranchOptions {
  /** URL or path of origin. May carry credentials (`https://x-access-token:…@github.com/o/r.git`): never printed. */
  remote: string;
  /** Default `newsletter-state` (config `state_branch`). */
  branch?: string;
  /** The local worktree directory, dedicated to this branch. */
  dir: string;
  /** Author and committer of the checkpoint commits. */
  author: StateAuthor;
  /** Push attempts in all (the first and the retries after a lost race). Default 8. */
  maxAttempts?: number;
  /** Backoff before retry n sleeps a random time in [0, backoffMs·2^(n-1)], at most 5 s. Default 200. */
  backoffMs?: number;
  /** Per git process. Default 120 s. */
  timeoutMs?: number;
}

export interface PushResult {
  /** False when there was nothing to push (no change since the last push). */
  pushed: boolean;
  /** Push attempts made (0 when nothing was pushed, 1 without a lost race). */
  attempts: number;
}

export interface StateBranch {
  readonly branch: string;
  readonly dir: string;
  /**
   * What `openStateBranch` found in a reused worktree: files whose local text
   * extends the remote's (appends a killed run made but never pushed) are
   * `kept` and pushed with the next commit; files that differ otherwise are
   * `discarded` (the remote wins: another run has moved on).
   */
  readonly recovered: { readonly kept: readonly string[]; readonly discarded: readonly string[] };

  /** The file's text in the worktree (pushed or not), or null when it does not exist. */
  read(file: string): Promise<string | null>;

  /**
   * Replace (or create) a file, in order with every other append and write
   * of this process; does not wait for a push in flight. Local until the
   * next `commitAndPush` that begins after it. Bytes are written as they are
   * (the pictures of a previews branch), text as UTF-8.
   */
  write(file: string, content: string | Uint8Array): Promise<void>;

  /**
   * Append text to a file (created when missing), handed to the OS at once —
   * also while a push is in flight, which it does not wait for (it waits at
   * most for a local `git add` or a reset and replay, milliseconds) — so it
   * survives kill -9 of this process, in the worktree. Appends and writes
   * from this process land in the order they were called. Local until the
   * next `commitAndPush` that begins after it (a push already in flight does
   * not count it pushed); replayed onto a newer remote tip if a push loses a race.
   */
  append(file: string, text: string): Promise<void>;

  /**
   * Fetch the remote tip; if it moved, rebase the worktree onto it (reset and
   * replay the changes not yet pushed). Pushes nothing.
   */
  refresh(): Promise<void>;

  /**
   * Commit every change made before this call (and not yet pushed) and push
   * it; the promise resolves only once the remote branch holds it. Changes
   * made while it runs are in the worktree at once and stay pending for the
   * next call, unless a retry after a lost race commits them too. Creates the branch (an
   * orphan commit) when the remote has none. A lost race is retried (fetch,
   * reset, replay) up to `maxAttempts`; then `push-contended`. A refusal
   * that retrying cannot fix is `push-rejected`. On any failure the changes
   * stay pending and are pushed by the next successful call.
   */
  commitAndPush(message: string): Promise<PushResult>;

  /** Changes not yet on the remote. */
  hasPending(): boolean;
}

/** A change not yet on the remote; `seq` increases with each change made (see `staged`). */
type Op = { seq: number; file: string } & ({ kind: "write"; content: string | Uint8Array } | { kind: "append"; chunks: string[] });

/** Validates a path inside the branch's tree: relative, `/`-separated, no `.`/`..`/`.git` segments. */
export function checkStatePath(file: string): string {
  const bad = (why: string) => new StateBranchError("bad-path", `state branch path ${JSON.stringify(redact(file).slice(0, 120))} ${why}`);
  if (typeof file !== "string" || file.length === 0) throw bad("is empty");
  if (file.length > 400) throw bad("is longer than 400 characters");
  if (/[\u0000-\u001f\u007f\\]/u.test(file)) throw bad("holds a control character or a backslash");
  if (file.startsWith("/") || /^[A-Za-z]:/u.test(file)) throw bad("is absolute");
  for (const seg of file.split("/")) {
    if (seg === "" || seg === "." || seg === "..") throw bad("has an empty, '.' or '..' segment");
    if (seg.toLowerCase() === ".git") throw bad("names .git");
  }
  return file;
}

export async function openStateBranch(o: OpenStateBranchOptions): Promise<StateBranch> {
  const b = new GitStateBranch(o);
  await b.open();
  return b;
}

class GitStateBranch implements StateBranch {
  readonly branch: string;
  readonly dir: string;
  recovered: { kept: string[]; discarded: string[] } = { kept: [], discarded: [] };

  private readonly remote: string;
  private readonly secrets: string[];
  private readonly env: Record<string, string>;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  /** Changes since the last successful push, in order. */
  private ops: Op[] = [];
  /** The `seq` of the last change made. */
  private seq = 0;
  /** The `seq` of the last change the index held at the latest `git add`: a successful push settles the ops up to it, no further. */
  private staged = 0;
  /** A local commit exists that the remote does not have (a push failed after it). */
  private unpushed = false;
  /** The git work (commitAndPush, refresh) runs one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Worktree changes (append, write), reads, and the local steps that read
   * or rewrite the files (`git add`; reset and replay) run one at a time, in
   * call order: an append can neither tear a `git add` (and be half in a
   * commit) nor land between a reset and its replay (and be lost or doubled).
   * Never held across a fetch or a push.
   */
  private disk: Promise<unknown> = Promise.resolve();

  constructor(o: OpenStateBranchOptions) {
    this.branch = o.branch ?? "newsletter-state";
    if (!/^(?!-)(?!\/)(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!.*\/$)[A-Za-z0-9._/-]{1,100}$/u.test(this.branch)) {
      throw new StateBranchError("bad-path", `${JSON.stringify(this.branch.slice(0, 100))} is not a branch name this tool uses`);
    }
    this.dir = path.resolve(o.dir);
    this.remote = o.remote;
    this.secrets = urlSecrets(o.remote);
    this.maxAttempts = Math.max(1, o.maxAttempts ?? 8);
    this.backoffMs = Math.max(0, o.backoffMs ?? 200);
    this.timeoutMs = o.timeoutMs ?? 120_000;
    this.env = {
      GIT_AUTHOR_NAME: o.author.name,
      GIT_AUTHOR_EMAIL: o.author.email,
      GIT_COMMITTER_NAME: o.author.name,
      GIT_COMMITTER_EMAIL: o.author.email,
    };
  }

  private get trackingRef(): string {
    return `refs/remotes/origin/${this.branch}`;
  }

  // ---- public API ---------------------------------------------------------

  read(file: string): Promise<string | null> {
    const f = checkStatePath(file);
    return this.exclusive(() => this.readLocal(f));
  }

  write(file: string, content: string | Uint8Array): Promise<void> {
    const f = checkStatePath(file);
    return this.exclusive(async () => {
      await this.io(f, async (abs) => {
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, content, "utf8");
      });
      // A write supersedes everything pending for the file: replaying it alone gives the same text.
      // (Dropping an op a push in flight holds is harmless: that push settles by `seq`, and this write stays pending.)
      this.ops = this.ops.filter((op) => op.file !== f);
      this.ops.push({ kind: "write", file: f, content, seq: ++this.seq });
    });
  }

  append(file: string, text: string): Promise<void> {
    const f = checkStatePath(file);
    if (text === "") return Promise.resolve();
    return this.exclusive(async () => {
      await this.io(f, async (abs) => {
        await mkdir(path.dirname(abs), { recursive: true });
        await appendFile(abs, text, "utf8");
      });
      const last = this.ops.at(-1);
      // Merge only into an op no `git add` has seen: what a commit holds must stay one op.
      if (last?.kind === "append" && last.file === f && last.seq > this.staged) last.chunks.push(text);
      else this.ops.push({ kind: "append", file: f, chunks: [text], seq: ++this.seq });
    });
  }

  refresh(): Promise<void> {
    return this.serial(async () => {
      const tip = await this.fetchTip();
      if (tip === null) return; // nothing on the remote yet: our worktree is the whole state
      const r = await this.git(["merge-base", "--is-ancestor", tip, "HEAD"], [1, 128]);
      if (r.exitCode === 0) return; // the remote has nothing we lack
      await this.exclusive(() => this.rebaseOnto(tip));
    });
  }

  commitAndPush(message: string): Promise<PushResult> {
    return this.serial(() => this.commitAndPushNow(message));
  }

  hasPending(): boolean {
    return this.ops.length > 0 || this.unpushed;
  }

  // ---- open ---------------------------------------------------------------

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const reused = existsSync(path.join(this.dir, ".git"));
    if (!reused) {
      const entries = await readdir(this.dir);
      if (entries.length > 0) {
        throw new StateBranchError("bad-dir", `the state worktree ${this.dir} is not empty and not a state worktree; give the state branch a directory of its own`);
      }
      await this.git(["init", "-q", "-b", this.branch]);
      const tip = await this.fetchTip();
      if (tip !== null) await this.git(["reset", "-q", "--hard", tip]);
      return;
    }
    await this.git(["symbolic-ref", "HEAD", `refs/heads/${this.branch}`]);
    await this.recover();
  }

  /**
   * A worktree left by an earlier run on this machine (killed, or a re-run
   * on the same self-hosted runner). The ledger's non-durable outcomes live
   * only here until the next push; dropping them would turn recipients that
   * were sent into "in doubt". So a file whose local text extends the
   * remote's keeps its extra tail (as a pending append); any other
   * difference means someone else moved the remote on, and the remote wins.
   */
  private async recover(): Promise<void> {
    await this.git(["add", "-A"]);
    const tip = await this.fetchTip();
    const diff = await this.git(["diff", "--cached", "--no-renames", "--name-status", "-z", tip ?? EMPTY_TREE]);
    const fields = diff.stdout.split("\0");
    const appends: Array<{ kind: "append"; file: string; chunks: string[] }> = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const status = fields[i]!;
      const file = fields[i + 1]!;
      if (status === "D") continue; // deleted locally: the remote's copy stands
      const local = await readFile(path.join(this.dir, file), "utf8");
      const remote = status === "A" ? "" : (await this.git(["cat-file", "blob", `${tip}:${file}`])).stdout;
      if (local.length > remote.length && local.startsWith(remote)) {
        appends.push({ kind: "append", file, chunks: [local.slice(remote.length)] });
        this.recovered.kept.push(file);
      } else if (local !== remote) {
        this.recovered.discarded.push(file);
      }
    }
    await this.resetTo(tip, false);
    this.ops = appends.map((op) => ({ ...op, seq: ++this.seq }));
    await this.replay();
  }

  // ---- push ---------------------------------------------------------------

  private async commitAndPushNow(message: string): Promise<PushResult> {
    await this.exclusive(async () => {}); // the changes called for before this call have landed
    if (!this.hasPending()) return { pushed: false, attempts: 0 };
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) {
        await sleep(randomInt(0, Math.min(5000, this.backoffMs * 2 ** (attempt - 2)) + 1));
        const tip = await this.fetchTip();
        // Rewrites the files: the changes made during the lost push are replayed too, in order.
        await this.exclusive(() => this.rebaseOnto(tip));
      }
      // The commit holds exactly the changes made up to here; later ones stay pending.
      await this.exclusive(async () => {
        await this.git(["add", "-A"]);
        this.staged = this.seq;
      });
      const c = await this.git(["commit", "--no-verify", "-q", "-m", message], [1]);
      if (c.exitCode === 1) {
        if (!/nothing to commit|nothing added to commit/u.test(c.stdout)) {
          throw this.fail("git-failed", "could not commit to the state branch", new GitCommandError(["commit"], 1, null, redact(c.stdout.trim().slice(0, 2000))));
        }
        // The staged changes are already what the tip holds (a write of the same text).
        if (!this.unpushed) {
          this.settle();
          return { pushed: false, attempts: attempt - 1 };
        }
      } else {
        this.unpushed = true;
      }
      const verdict = await this.push();
      if (verdict === "ok") {
        this.settle();
        this.unpushed = false;
        return { pushed: true, attempts: attempt };
      }
    }
    throw new StateBranchError(
      "push-contended",
      `could not push to ${this.branch} after ${this.maxAttempts} attempts: other jobs kept moving it; the changes stay pending`,
    );
  }

  /** The remote holds the staged changes: forget them, keep those made since `git add`. */
  private settle(): void {
    this.ops = this.ops.filter((op) => op.seq > this.staged);
  }

  /** "ok", or "retry" for a lost race; throws for anything retrying cannot fix. */
  private async push(): Promise<"ok" | "retry"> {
    const dest = `refs/heads/${this.branch}`;
    const r = await this.git(["push", "--porcelain", "--no-verify", this.remote, `HEAD:${dest}`], [1]);
    if (r.exitCode === 0) return "ok";
    // Porcelain: "<flag>\t<from>:<to>\t<summary> (<reason>)"; "!" is a refused ref.
    const line = r.stdout.split("\n").find((l) => l.startsWith("!\t") && l.includes(`:${dest}\t`));
    const summary = line?.split("\t")[2] ?? "";
    if (/^\[rejected\] \((fetch first|non-fast-forward|stale info)\)/u.test(summary)) return "retry";
    // Another push updated the ref between the server's check and its write.
    if (/^\[remote rejected\] .*(lock|failed to update ref|incorrect old value|reference already exists)/iu.test(summary)) return "retry";
    const why = summary || r.stderr.trim().split("\n").at(-1) || "no reason given";
    throw this.fail("push-rejected", `the remote refused the push to ${this.branch}: ${why.slice(0, 300)}`, new GitCommandError(["push"], r.exitCode, null, redact(scrubCredentials(r.stderr.trim().slice(0, 2000), this.secrets))));
  }

  // ---- plumbing -----------------------------------------------------------

  /** Fetch the branch's tip (one commit deep); null when the remote has no such branch. */
  private async fetchTip(): Promise<string | null> {
    const f = await this.git(
      ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--depth=1", this.remote, `+refs/heads/${this.branch}:${this.trackingRef}`],
      [128],
    );
    if (f.exitCode === 128) {
      if (/couldn't find remote ref/u.test(f.stderr)) return null;
      throw this.fail("git-failed", `could not fetch ${this.branch}`, new GitCommandError(["fetch"], 128, null, redact(scrubCredentials(f.stderr.trim().slice(0, 2000), this.secrets))));
    }
    return (await this.git(["rev-parse", "--verify", "-q", `${this.trackingRef}^{commit}`])).stdout.trim();
  }

  /**
   * Make the worktree and branch exactly `tip` (or an unborn branch with an
   * empty tree when the remote has none). `stage` first when the worktree may
   * hold untracked files of ours, which a hard reset would otherwise leave behind.
   */
  private async resetTo(tip: string | null, stage: boolean): Promise<void> {
    if (stage) await this.git(["add", "-A"]);
    if (tip !== null) {
      await this.git(["reset", "-q", "--hard", tip]);
    } else {
      await this.git(["read-tree", "-u", "--reset", EMPTY_TREE]);
      await this.git(["update-ref", "-d", `refs/heads/${this.branch}`]);
    }
    this.unpushed = false;
  }

  /**
   * Reset to `tip` and replay every pending change in order (under
   * `exclusive`). Staged first: files our unpushed commit or later appends
   * created would otherwise survive the reset untracked and be appended twice.
   */
  private async rebaseOnto(tip: string | null): Promise<void> {
    await this.resetTo(tip, true);
    await this.replay();
  }

  private async replay(): Promise<void> {
    for (const op of this.ops) {
      await this.io(op.file, async (abs) => {
        await mkdir(path.dirname(abs), { recursive: true });
        if (op.kind === "write") await writeFile(abs, op.content, "utf8");
        else await appendFile(abs, op.chunks.join(""), "utf8");
      });
    }
  }

  private async readLocal(file: string): Promise<string | null> {
    try {
      return await readFile(path.join(this.dir, file), "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw this.fail("git-failed", `could not read ${file} in the state worktree`, e);
    }
  }

  private async io(file: string, fn: (abs: string) => Promise<void>): Promise<void> {
    try {
      await fn(path.join(this.dir, file));
    } catch (e) {
      throw this.fail("git-failed", `could not write ${file} in the state worktree: ${(e as NodeJS.ErrnoException).code ?? "error"}`, e);
    }
  }

  private async git(args: string[], okCodes: number[] = []): Promise<GitResult> {
    const full = [
      // Our commits must not depend on the runner's git configuration: no
      // signing prompts, no background gc holding locks mid-send, no CRLF rewriting.
      "-c", "commit.gpgsign=false",
      "-c", "gc.auto=0",
      "-c", "maintenance.auto=false",
      "-c", "core.autocrlf=false",
      ...args,
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        return await runGit(full, { cwd: this.dir, env: this.env, okCodes, timeoutMs: this.timeoutMs, secrets: this.secrets });
      } catch (e) {
        if (e instanceof StateBranchError) throw e;
        const lock = e instanceof GitCommandError ? LOCKED.exec(e.output) : null;
        if (lock !== null && attempt < LOCK_ATTEMPTS) {
          // Another git process of this worktree is still at work — typically one a killed send
          // left behind (SIGKILL ends node, not its children), finishing its fetch or push.
          await sleep(Math.min(2_000, 100 * 2 ** attempt));
          continue;
        }
        const hint = lock !== null
          ? ` (a lock is held${lock[1] ? `: ${path.basename(lock[1])}` : ""}; if no other git process runs in ${this.dir}, a killed one left it: remove the .lock file)`
          : "";
        throw this.fail("git-failed", `git ${args[0] ?? ""} failed on the state branch ${this.branch}${hint}`, e);
      }
    }
  }

  private fail(kind: ConstructorParameters<typeof StateBranchError>[0], message: string, cause: unknown): StateBranchError {
    return new StateBranchError(kind, redact(scrubCredentials(message, this.secrets)), { cause });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.disk.then(fn, fn);
    this.disk = run.catch(() => undefined);
    return run;
  }
}
