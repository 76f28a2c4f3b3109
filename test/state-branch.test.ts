/**
 * The state branch over a real bare repository standing in for origin: the
 * orphan branch, racing pushers, the ledger checkpoint a fresh runner
 * resumes from, and what a killed run leaves in its worktree.
 */
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { FsHistory } from "../src/ledger/fs-history.ts";
import { Ledger, type LedgerOpen } from "../src/ledger/ledger.ts";
import { parseLedger } from "../src/ledger/records.ts";
import { inDoubt } from "../src/ledger/state.ts";
import { StateBranchError } from "../src/state/errors.ts";
import { checkStatePath, openStateBranch, type OpenStateBranchOptions } from "../src/state/git-branch.ts";
import { GitLedgerStore, stateLedgerPath } from "../src/state/git-ledger-store.ts";
import { scrubCredentials } from "../src/state/git-run.ts";

const BRANCH = "newsletter-state";
const author = { name: "newsletter-bot", email: "bot@state.invalid" };
const GIT_ENV = {
  ...process.env,
  LC_ALL: "C",
  GIT_TERMINAL_PROMPT: "0",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t.invalid",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t.invalid",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A bare origin with a `main` branch holding one commit, like a real repository. */
function makeOrigin(): string {
  const root = tmp("nl-origin-");
  const bare = path.join(root, "origin.git");
  git(root, "init", "-q", "--bare", "-b", "main", bare);
  const work = path.join(root, "seed");
  git(root, "init", "-q", "-b", "main", work);
  writeFileSync(path.join(work, "README.md"), "code\n");
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "code");
  git(work, "push", "-q", bare, "HEAD:refs/heads/main");
  return bare;
}

/** What the remote's state branch holds at `file`, or null. */
function remoteFile(bare: string, file: string): string | null {
  try {
    return git(bare, "show", `${BRANCH}:${file}`);
  } catch {
    return null;
  }
}

function open(bare: string, o: Partial<OpenStateBranchOptions> = {}) {
  return openStateBranch({ remote: bare, dir: path.join(tmp("nl-runner-"), "state"), author, backoffMs: 20, ...o });
}

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * A pre-receive hook that holds one push: while `$GIT_DIR/hold` exists, the
 * next push removes it, marks `$GIT_DIR/held` and sleeps `seconds` (the
 * round trip to github.com, slowed down); every other push passes at once.
 */
function slowPushes(bare: string, seconds: number): { hold(): void; held(): Promise<void> } {
  writeFileSync(
    path.join(bare, "hooks", "pre-receive"),
    `#!/bin/sh\ncat >/dev/null\nif [ -f "$GIT_DIR/hold" ]; then rm -f "$GIT_DIR/hold"; touch "$GIT_DIR/held"; sleep ${seconds}; fi\nexit 0\n`,
    { mode: 0o755 },
  );
  return {
    hold: () => writeFileSync(path.join(bare, "hold"), ""),
    held: async () => {
      const deadline = Date.now() + 20_000;
      while (!existsSync(path.join(bare, "held"))) {
        if (Date.now() > deadline) throw new Error("the push never reached the hook");
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

/** Whether a promise is still pending (after letting settled callbacks run). */
async function pending(p: Promise<unknown>): Promise<boolean> {
  const mark = Symbol("pending");
  return (await Promise.race([p.then(() => null, () => null), new Promise((r) => setImmediate(() => r(mark)))])) === mark;
}

const ledgerOpen: LedgerOpen = {
  id: "2026-12-01-x", list: "customers", listRows: 3, digest: "d".repeat(64), shard: "all", count: 3,
  secret: "s1", now: () => new Date("2026-12-01T00:00:00Z"),
};

describe("state branch", () => {
  it("creates the branch as an orphan on the first push, leaving main alone", async () => {
    const bare = makeOrigin();
    const mainBefore = git(bare, "rev-parse", "main").trim();
    const s = await open(bare);
    expect(await s.read("ledger/a.jsonl")).toBeNull();
    expect(await s.commitAndPush("nothing")).toEqual({ pushed: false, attempts: 0 });
    await s.write("ledger/a.jsonl", "one\n");
    expect(s.hasPending()).toBe(true);
    expect(await s.commitAndPush("first")).toEqual({ pushed: true, attempts: 1 });
    expect(s.hasPending()).toBe(false);

    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("one\n");
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe("1");
    expect(git(bare, "rev-list", "--parents", "-n", "1", BRANCH).trim().split(" ")).toHaveLength(1); // no parent
    expect(git(bare, "ls-tree", "-r", "--name-only", BRANCH).trim()).toBe("ledger/a.jsonl"); // no README: no shared history
    expect(git(bare, "rev-parse", "main").trim()).toBe(mainBefore);
    // The URL (a token, in Actions) is never written into the worktree's config.
    expect(readFileSync(path.join(s.dir, ".git", "config"), "utf8")).not.toContain(bare);
  });

  it("two runners that both start from no branch push different files at once: both land", async () => {
    const bare = makeOrigin();
    const a = await open(bare);
    const b = await open(bare);
    await a.write("ledger/x/1-of-2.jsonl", "a1\n");
    await b.write("ledger/x/2-of-2.jsonl", "b1\n");
    const [ra, rb] = await Promise.all([a.commitAndPush("a"), b.commitAndPush("b")]);
    expect(ra.pushed && rb.pushed).toBe(true);
    expect(Math.max(ra.attempts, rb.attempts)).toBeGreaterThanOrEqual(2); // one lost the race and replayed
    expect(remoteFile(bare, "ledger/x/1-of-2.jsonl")).toBe("a1\n");
    expect(remoteFile(bare, "ledger/x/2-of-2.jsonl")).toBe("b1\n");
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe("2"); // linear, the loser's orphan commit gone
  });

  it("a shard matrix: three runners appending to their own files concurrently lose nothing and duplicate nothing", async () => {
    const bare = makeOrigin();
    const shards = await Promise.all([1, 2, 3].map(() => open(bare, { maxAttempts: 30 })));
    let retries = 0;
    await Promise.all(
      shards.map(async (s, i) => {
        for (let round = 0; round < 4; round++) {
          await s.append(`ledger/x/${i + 1}-of-3.jsonl`, `r${round}a\n`);
          await s.append(`ledger/x/${i + 1}-of-3.jsonl`, `r${round}b\n`);
          const r = await s.commitAndPush(`shard ${i + 1} round ${round}`);
          retries += r.attempts - 1;
        }
      }),
    );
    const want = [0, 1, 2, 3].map((r) => `r${r}a\nr${r}b\n`).join("");
    for (let i = 1; i <= 3; i++) expect(remoteFile(bare, `ledger/x/${i}-of-3.jsonl`)).toBe(want);
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe("12");
    expect(retries).toBeGreaterThan(0);
  });

  it("replays an append onto a tip another job moved (non-fast-forward), keeping the file's order", async () => {
    const bare = makeOrigin();
    const a = await open(bare);
    await a.append("ledger/a.jsonl", "1\n");
    await a.commitAndPush("a1");
    const b = await open(bare);
    expect(await b.read("ledger/a.jsonl")).toBe("1\n");
    await b.write("audit/other.json", "{}\n");
    await b.commitAndPush("b");
    await a.append("ledger/a.jsonl", "2\n");
    await a.append("ledger/a.jsonl", "3\n");
    expect(await a.commitAndPush("a2")).toEqual({ pushed: true, attempts: 2 });
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("1\n2\n3\n");
    expect(remoteFile(bare, "audit/other.json")).toBe("{}\n");
    // refresh() brings the other job's file into a's worktree without pushing.
    await b.write("audit/other.json", "{\"v\":2}\n");
    await b.commitAndPush("b2");
    await a.append("ledger/a.jsonl", "4\n");
    await a.refresh();
    expect(await a.read("audit/other.json")).toBe("{\"v\":2}\n");
    expect(await a.read("ledger/a.jsonl")).toBe("1\n2\n3\n4\n");
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("1\n2\n3\n");
    await a.commitAndPush("a3");
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("1\n2\n3\n4\n");
  });

  it("refresh() of a runner that began before the branch existed adopts the new tip and keeps its own changes", async () => {
    const bare = makeOrigin();
    const a = await open(bare);
    const b = await open(bare);
    await a.append("ledger/a.jsonl", "a1\n"); // untracked, never committed
    await b.write("ledger/b.jsonl", "b1\n");
    await b.commitAndPush("b creates the branch");
    await a.refresh();
    expect(await a.read("ledger/b.jsonl")).toBe("b1\n");
    expect(await a.read("ledger/a.jsonl")).toBe("a1\n");
    expect(await a.commitAndPush("a")).toEqual({ pushed: true, attempts: 1 });
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("a1\n");
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe("2");
  });

  it("gives up after maxAttempts with push-contended, keeps the changes, and pushes them later", async () => {
    const bare = makeOrigin();
    const a = await open(bare, { maxAttempts: 1 });
    const b = await open(bare);
    await b.write("b.txt", "b\n");
    await b.commitAndPush("b");
    await a.append("a.txt", "a\n");
    const err = await a.commitAndPush("a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateBranchError);
    expect((err as StateBranchError).kind).toBe("push-contended");
    expect((err as StateBranchError).code).toBe("state-branch");
    expect(a.hasPending()).toBe(true);
    await a.refresh(); // now based on b's tip: the single attempt wins
    expect(await a.commitAndPush("a again")).toEqual({ pushed: true, attempts: 1 });
    expect(remoteFile(bare, "a.txt")).toBe("a\n");
    expect(remoteFile(bare, "b.txt")).toBe("b\n");
  });

  it("a refusal retrying cannot fix is push-rejected, with the hook's reason, and nothing is lost", async () => {
    const bare = makeOrigin();
    const hook = path.join(bare, "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\necho 'protected branch' >&2\nexit 1\n", { mode: 0o755 });
    const s = await open(bare);
    await s.append("a.txt", "a\n");
    const err = await s.commitAndPush("a").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateBranchError);
    expect((err as StateBranchError).kind).toBe("push-rejected");
    expect((err as Error).message).toMatch(/pre-receive hook declined/u);
    writeFileSync(hook, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    expect((await s.commitAndPush("a")).pushed).toBe(true);
    expect(remoteFile(bare, "a.txt")).toBe("a\n");
  });

  it("never prints the credentials of a remote URL, in the message or in any cause", async () => {
    const token = "ghs_S3cretT0kenValue";
    const remote = `http://x-access-token:${token}@127.0.0.1:9/corp/news.git`;
    const err = await openStateBranch({ remote, dir: path.join(tmp("nl-runner-"), "s"), author, timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateBranchError);
    expect((err as StateBranchError).kind).toBe("git-failed");
    const all = inspect(err, { depth: 10 });
    expect(all).not.toContain(token);
    expect(all).not.toContain("x-access-token:");
    expect(scrubCredentials(`fatal: unable to access '${remote}'`)).toBe("fatal: unable to access 'http://***@127.0.0.1:9/corp/news.git'");
  });

  it("refuses paths outside the tree and a worktree directory that is not its own", async () => {
    for (const p of ["", "/etc/passwd", "../x", "a/../../x", ".git/config", "a/.GIT/x", "a\\b", "a//b", "C:/x"]) {
      expect(() => checkStatePath(p), p).toThrow(StateBranchError);
    }
    expect(checkStatePath("ledger/2026-12-01-x/1-of-4.jsonl")).toBe("ledger/2026-12-01-x/1-of-4.jsonl");
    const dir = tmp("nl-busy-");
    writeFileSync(path.join(dir, "something.txt"), "x");
    const err = await openStateBranch({ remote: makeOrigin(), dir, author }).catch((e: unknown) => e);
    expect((err as StateBranchError).kind).toBe("bad-dir");
  });

  it("a worktree reused after a killed run keeps the local appends the remote lacks, and drops what diverged", async () => {
    const bare = makeOrigin();
    const dir = path.join(tmp("nl-runner-"), "state");
    const first = await openStateBranch({ remote: bare, dir, author });
    await first.append("ledger/a.jsonl", "pushed\n");
    await first.write("audit/a.json", "{\"v\":1}\n");
    await first.commitAndPush("p");
    await first.append("ledger/a.jsonl", "local only\n"); // non-durable, then the process dies
    await first.write("audit/a.json", "{\"v\":\"local\"}\n");
    // Meanwhile another run rewrote the audit record on the remote.
    const other = await open(bare);
    await other.write("audit/a.json", "{\"v\":2}\n");
    await other.commitAndPush("other");

    const again = await openStateBranch({ remote: bare, dir, author });
    expect(again.recovered).toEqual({ kept: ["ledger/a.jsonl"], discarded: ["audit/a.json"] });
    expect(await again.read("ledger/a.jsonl")).toBe("pushed\nlocal only\n");
    expect(await again.read("audit/a.json")).toBe("{\"v\":2}\n");
    expect(again.hasPending()).toBe(true);
    await again.commitAndPush("recovered");
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("pushed\nlocal only\n");
  });
});

describe("state branch: a lock another git process holds", () => {
  it("is waited for while its holder finishes (a killed send's orphaned push), then the commit goes through", async () => {
    const bare = makeOrigin();
    const dir = path.join(tmp("nl-runner-"), "state");
    const b = await openStateBranch({ remote: bare, dir, author });
    await b.append("ledger/a.jsonl", "one\n");
    const lock = path.join(dir, ".git", "index.lock");
    writeFileSync(lock, "");
    const released = new Promise<void>((r) => setTimeout(() => (rmSync(lock), r()), 400));
    await b.commitAndPush("after the lock");
    await released;
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("one\n");
  });

  it("a lock nobody releases fails with what to do, naming the lock, and the changes stay for the next push", async () => {
    const bare = makeOrigin();
    const dir = path.join(tmp("nl-runner-"), "state");
    const b = await openStateBranch({ remote: bare, dir, author });
    await b.append("ledger/a.jsonl", "kept\n");
    const lock = path.join(dir, ".git", "index.lock");
    writeFileSync(lock, "");
    const err = await b.commitAndPush("stale").then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(StateBranchError);
    expect((err as Error).message).toMatch(/index\.lock.*remove the \.lock file/);
    rmSync(lock);
    await b.commitAndPush("after removing it");
    expect(remoteFile(bare, "ledger/a.jsonl")).toBe("kept\n");
  }, 20_000);
});

describe("state branch: appends while a push is in flight", () => {
  it("land on disk at once, are not counted pushed by that push, and reach the remote with the next one, once", async () => {
    const bare = makeOrigin();
    const slow = slowPushes(bare, 1);
    const s = await open(bare);
    const file = "ledger/x/all.jsonl";
    const abs = path.join(s.dir, file);
    await s.append(file, "claim 1\n");
    await s.commitAndPush("claim 1");
    await s.append(file, "claim 2\n");
    slow.hold();
    const push = s.commitAndPush("claim 2");
    await slow.held();
    const t0 = Date.now();
    await s.append(file, "sent a\n");
    // Concurrent appends from this process keep their call order.
    await Promise.all(["sent b\n", "sent c\n", "sent d\n"].map((l) => s.append(file, l)));
    await s.write("audit/x.json", "{\"v\":1}\n"); // a write does not wait for the push either
    const waited = Date.now() - t0;
    expect(readFileSync(abs, "utf8")).toBe("claim 1\nclaim 2\nsent a\nsent b\nsent c\nsent d\n");
    expect(readFileSync(path.join(s.dir, "audit/x.json"), "utf8")).toBe("{\"v\":1}\n");
    expect(await s.read(file)).toBe("claim 1\nclaim 2\nsent a\nsent b\nsent c\nsent d\n");
    expect(await pending(push)).toBe(true); // all of it while the push was held
    expect(waited).toBeLessThan(700);

    expect(await push).toEqual({ pushed: true, attempts: 1 });
    expect(remoteFile(bare, file)).toBe("claim 1\nclaim 2\n"); // the push in flight holds what was there at its `git add`
    expect(remoteFile(bare, "audit/x.json")).toBeNull();
    expect(s.hasPending()).toBe(true); // the rest is pending, not marked pushed
    expect(await s.commitAndPush("outcomes")).toEqual({ pushed: true, attempts: 1 });
    expect(remoteFile(bare, file)).toBe("claim 1\nclaim 2\nsent a\nsent b\nsent c\nsent d\n");
    expect(remoteFile(bare, "audit/x.json")).toBe("{\"v\":1}\n");
    expect(s.hasPending()).toBe(false);
    expect(await s.commitAndPush("nothing")).toEqual({ pushed: false, attempts: 0 });
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe("3");
    expect(readFileSync(abs, "utf8")).toBe(remoteFile(bare, file));
  });

  it("a push in flight that loses the race replays the appends made during it, in order, none lost or doubled", async () => {
    const bare = makeOrigin();
    const slow = slowPushes(bare, 1);
    const s = await open(bare);
    const file = "ledger/x/1-of-2.jsonl";
    await s.append(file, "1\n");
    await s.commitAndPush("1");
    const other = await open(bare);
    await s.append(file, "2\n");
    await s.append("ledger/x/new-during-push.jsonl", "n0\n"); // a file the lost commit creates
    slow.hold();
    const push = s.commitAndPush("2");
    await slow.held();
    await s.append(file, "3\n");
    await s.append("ledger/x/made-during-push.jsonl", "m1\n"); // a file created after `git add`: untracked at the reset
    // Another shard pushes while ours is held in the hook: ours then fails to update the ref.
    await other.write("ledger/x/2-of-2.jsonl", "other\n");
    expect(await other.commitAndPush("other")).toEqual({ pushed: true, attempts: 1 });
    await s.append(file, "4\n");
    await s.append("ledger/x/made-during-push.jsonl", "m2\n");
    expect(readFileSync(path.join(s.dir, file), "utf8")).toBe("1\n2\n3\n4\n");
    expect(await pending(push)).toBe(true);

    const r = await push;
    expect(r.pushed).toBe(true);
    expect(r.attempts).toBe(2); // lost, fetched, reset, replayed
    // The local files after the reset and replay: every append once, in order.
    expect(readFileSync(path.join(s.dir, file), "utf8")).toBe("1\n2\n3\n4\n");
    expect(readFileSync(path.join(s.dir, "ledger/x/made-during-push.jsonl"), "utf8")).toBe("m1\nm2\n");
    await s.append(file, "5\n");
    await s.commitAndPush("5");
    expect(remoteFile(bare, file)).toBe("1\n2\n3\n4\n5\n");
    expect(remoteFile(bare, "ledger/x/new-during-push.jsonl")).toBe("n0\n");
    expect(remoteFile(bare, "ledger/x/made-during-push.jsonl")).toBe("m1\nm2\n");
    expect(remoteFile(bare, "ledger/x/2-of-2.jsonl")).toBe("other\n");
    expect(s.hasPending()).toBe(false);
  });

  it("kill -9 mid-push after outcomes were appended: a reopened worktree recovers them and pushes them", async () => {
    const bare = makeOrigin();
    const slow = slowPushes(bare, 2);
    const dir = path.join(tmp("nl-runner-"), "state");
    const file = "ledger/x/all.jsonl";
    const script = path.join(tmp("nl-child-"), "child.mts");
    writeFileSync(
      script,
      `import { openStateBranch } from ${JSON.stringify(pathToFileURL(path.join(PROJECT, "src/state/git-branch.ts")).href)};
const [remote, dir, file, holdFile] = process.argv.slice(2);
const s = await openStateBranch({ remote, dir, author: { name: "bot", email: "bot@state.invalid" } });
await s.append(file, "begin\\n");
await s.commitAndPush("begin");
await s.append(file, "claim\\n");
(await import("node:fs")).writeFileSync(holdFile, "");
let settled = false;
s.commitAndPush("claim").finally(() => (settled = true)); // held in the hook: the process dies before it resolves
while (!(await import("node:fs")).existsSync(holdFile.replace(/hold$/, "held"))) await new Promise((r) => setTimeout(r, 5));
// Outcomes as the ledger writes them: handed over, not waited for.
void s.append(file, "sent 1\\n");
void s.append(file, "sent 2\\n");
await new Promise((r) => setTimeout(r, 150));
process.stdout.write(settled ? "too late\\n" : "appended\\n");
await new Promise(() => setInterval(() => {}, 1000));
`,
    );
    const child = spawn(process.execPath, ["--import", "tsx", script, bare, dir, file, path.join(bare, "hold")], {
      cwd: PROJECT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
    const deadline = Date.now() + 30_000;
    while (!out.includes("appended") && !out.includes("too late")) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the child never appended: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(out).toBe("appended\n"); // killed while its push was still held
    expect(readFileSync(path.join(dir, file), "utf8")).toBe("begin\nclaim\nsent 1\nsent 2\n");
    // The orphaned `git push` may or may not land the claim; either way the outcomes exist only here.
    await new Promise((r) => setTimeout(r, 2500));
    const before = remoteFile(bare, file);
    expect(["begin\n", "begin\nclaim\n"]).toContain(before);

    const again = await openStateBranch({ remote: bare, dir, author });
    expect(again.recovered).toEqual({ kept: [file], discarded: [] });
    expect(await again.read(file)).toBe("begin\nclaim\nsent 1\nsent 2\n");
    expect((await again.commitAndPush("recovered")).pushed).toBe(true);
    expect(remoteFile(bare, file)).toBe("begin\nclaim\nsent 1\nsent 2\n");
    expect(again.hasPending()).toBe(false);
  }, 60_000);
});

describe("GitLedgerStore", () => {
  it("a durable append is on the remote at once; non-durable ones wait for the next durable one", async () => {
    const bare = makeOrigin();
    const file = stateLedgerPath("2026-12-01-x", "all");
    const store = new GitLedgerStore(await open(bare), file);
    expect(store.name).toBe(`${BRANCH}:ledger/2026-12-01-x/all.jsonl`);
    expect(await store.read()).toBe("");
    await store.append("begin\n"); // durable by default, like the begin record
    await store.append("claim\n", true);
    await store.append("sent 1\n", false);
    await store.append("sent 2\n", false);
    expect(remoteFile(bare, file)).toBe("begin\nclaim\n");
    // The re-run on a fresh runner: a new worktree sees exactly what was pushed.
    const fresh = new GitLedgerStore(await open(bare), file);
    expect(await fresh.read()).toBe("begin\nclaim\n");
    await store.append("", true); // Ledger.flush
    expect(remoteFile(bare, file)).toBe("begin\nclaim\nsent 1\nsent 2\n");
    expect(await fresh.read()).toBe("begin\nclaim\nsent 1\nsent 2\n"); // read() fetches first
    const pushes = git(bare, "rev-list", "--count", BRANCH).trim();
    await store.append("", true); // nothing new: no push
    expect(git(bare, "rev-list", "--count", BRANCH).trim()).toBe(pushes);
  });

  it("a Ledger end to end: the claim is on the remote before the batch would go out; a fresh runner resumes exactly", async () => {
    const bare = makeOrigin();
    const file = stateLedgerPath(ledgerOpen.id, "all");
    const runnerA = await open(bare);
    const ledger = await Ledger.open(new GitLedgerStore(runnerA, file), ledgerOpen);
    await ledger.claim(["fa", "fb", "fc"]);
    // Between claim() resolving and the first message: the remote already holds the claim.
    const onRemote = parseLedger(remoteFile(bare, file) ?? "", file);
    expect(onRemote.map((r) => r.t)).toEqual(["begin", "claim"]);
    ledger.recordSent("fa", "m1.2026-12-01-x@corp.example");
    // The job is killed here: the outcome never left runner A.

    const fresh = await Ledger.open(new GitLedgerStore(await open(bare), file), ledgerOpen);
    expect(fresh.counts()).toEqual({ sent: 0, failed: 0, inDoubt: 3, retryable: 0 });
    expect(inDoubt(fresh.state).sort()).toEqual(["fa", "fb", "fc"]);

    // Had the job lived to close, the outcome would have been pushed too.
    await ledger.close();
    const later = await Ledger.open(new GitLedgerStore(await open(bare), file), ledgerOpen);
    expect(later.counts()).toEqual({ sent: 1, failed: 0, inDoubt: 2, retryable: 0 });
    // Same layout as the local state folder: the check's history reads the worktree as is.
    const hist = await new FsHistory(runnerA.dir).beginRecords();
    expect(hist).toHaveLength(1);
    expect(hist[0]).toMatchObject({ id: ledgerOpen.id, list: "customers", list_rows: 3 });
  });

  it("a torn local tail (killed mid-write, same runner) is cut before new records, and the cut is pushed", async () => {
    const bare = makeOrigin();
    const dir = path.join(tmp("nl-runner-"), "state");
    const file = stateLedgerPath(ledgerOpen.id, "all");
    const l1 = await Ledger.open(new GitLedgerStore(await openStateBranch({ remote: bare, dir, author }), file), ledgerOpen);
    await l1.claim(["fa", "fb"]);
    l1.recordSent("fa", "m1.2026-12-01-x@corp.example");
    await new Promise((r) => setTimeout(r, 20)); // the outcome's write(2) happens
    appendFileSync(path.join(dir, file), '{"t":"sent","fp":"fb","mi'); // the write the kill tore

    const branch = await openStateBranch({ remote: bare, dir, author });
    expect(branch.recovered.kept).toEqual([file]);
    const l2 = await Ledger.open(new GitLedgerStore(branch, file), ledgerOpen);
    expect(l2.counts()).toEqual({ sent: 1, failed: 0, inDoubt: 1, retryable: 0 });
    await l2.claim(["fc"]);
    const text = remoteFile(bare, file) ?? "";
    expect(text).not.toContain('"fp":"fb"'); // the torn fragment is gone
    expect(text.endsWith("\n")).toBe(true);
    expect(parseLedger(text, file).map((r) => r.t)).toEqual(["begin", "claim", "sent", "claim"]);
    const local = readFileSync(path.join(dir, file), "utf8");
    expect(local).toBe(text);
  });

  it("shards of one newsletter checkpoint to one branch concurrently", async () => {
    const bare = makeOrigin();
    const run = async (i: number) => {
      const shard = `${i}-of-3`;
      const l = await Ledger.open(new GitLedgerStore(await open(bare, { maxAttempts: 30 }), stateLedgerPath(ledgerOpen.id, shard)), { ...ledgerOpen, shard });
      for (let b = 0; b < 2; b++) {
        await l.claim([`s${i}b${b}`]);
        l.recordSent(`s${i}b${b}`, `m${b}.2026-12-01-x@corp.example`);
      }
      await l.end("completed");
      await l.close();
    };
    await Promise.all([1, 2, 3].map(run));
    for (let i = 1; i <= 3; i++) {
      const recs = parseLedger(remoteFile(bare, stateLedgerPath(ledgerOpen.id, `${i}-of-3`)) ?? "", "x");
      expect(recs.filter((r) => r.t === "sent")).toHaveLength(2);
      expect(recs.at(-1)).toMatchObject({ t: "end", outcome: "completed" });
    }
  });
});
