/**
 * The parts of a newsletter repository's life on GitHub that the end-to-end
 * tests share: a bare `origin` (the code and the state branch), a developer
 * clone, the GitHub fake mirroring origin's commits SHA for SHA, and a job's
 * runner (a fresh checkout, the event file, output and summary files,
 * RUNNER_TEMP). Every function takes the world it acts on.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { FakeCommit, GitHubFake } from "./github-fake.ts";

export const STATE_BRANCH = "newsletter-state";
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };

export interface OriginWorld {
  readonly root: string;
  readonly origin: string;
  readonly dev: string;
  readonly fake: GitHubFake;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** git as `login` (author and committer; GitHub links both to that account in the fake). */
export function gitAs(cwd: string, login: string, args: string[], committer = login): string {
  return execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...GIT_ENV,
      GIT_AUTHOR_NAME: login,
      GIT_AUTHOR_EMAIL: `${login}@users.example.invalid`,
      GIT_COMMITTER_NAME: committer,
      GIT_COMMITTER_EMAIL: `${committer}@users.example.invalid`,
    },
  }).trim();
}

/** A bare origin with `main`, and a developer clone of it. */
export function initOrigin(root: string): { origin: string; dev: string } {
  const origin = path.join(root, "origin.git");
  git(root, "init", "-q", "--bare", "-b", "main", origin);
  const dev = path.join(root, "dev");
  git(root, "clone", "-q", origin, dev);
  git(dev, "checkout", "-q", "-b", "main");
  return { origin, dev };
}

/** Writes `files` under `dir` (creating folders). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), content);
  }
}

/** Writes `files` into a clone and stages everything. */
export function stageFiles(dir: string, files: Record<string, string>): void {
  writeFiles(dir, files);
  git(dir, "add", "-A");
}

/** Mirrors origin's commits up to `sha` into the fake, with origin's SHAs, trees and authors. */
export function mirror(w: OriginWorld, sha: string): FakeCommit {
  const known = new Set(w.fake.state.commits.map((c) => c.sha));
  for (const line of git(w.dev, "rev-list", "--reverse", "--parents", sha).split("\n")) {
    const [c, ...parents] = line.split(" ");
    if (!c || known.has(c)) continue;
    const [author = "", committer = "", date = "", ...msg] = git(w.dev, "show", "-s", "--format=%an%n%cn%n%aI%n%B", c).split("\n");
    const tree: Record<string, string> = {};
    for (const p of git(w.dev, "ls-tree", "-r", "--name-only", c).split("\n").filter(Boolean)) {
      tree[p] = execFileSync("git", ["show", `${c}:${p}`], { cwd: w.dev, encoding: "utf8", maxBuffer: 64 << 20 });
    }
    for (const login of [author, committer]) if (login !== "web-flow") w.fake.user(login);
    w.fake.state.commits.push({
      sha: c,
      parents,
      message: msg.join("\n").trim(),
      author,
      committer: committer === "web-flow" ? "web-flow" : committer,
      date: new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z"),
      tree,
    });
    known.add(c);
  }
  const found = w.fake.state.commits.find((c) => c.sha === sha);
  if (!found) throw new Error(`mirror: ${sha} not mirrored`);
  return found;
}

/** A fresh checkout of origin at `sha` (what actions/checkout gives a job). */
export function checkout(w: OriginWorld, sha: string): string {
  const ws = mkdtempSync(path.join(w.root, "ws-"));
  git(w.root, "clone", "-q", "--no-checkout", w.origin, ws);
  git(ws, "checkout", "-q", "--detach", sha);
  return ws;
}

/** The state branch into `<ws>/.newsletter-state`, as the send job's checkout does (it can push). */
export function checkoutState(w: OriginWorld, ws: string): string {
  const dir = path.join(ws, ".newsletter-state");
  git(w.root, "clone", "-q", "--depth", "1", "--branch", STATE_BRANCH, w.origin, dir);
  return dir;
}

/** The send workflow's "created when missing": an orphan state branch with a README. */
export function ensureStateBranch(w: OriginWorld): void {
  if (git(w.root, "ls-remote", "--heads", w.origin, STATE_BRANCH) !== "") return;
  const tmp = mkdtempSync(path.join(w.root, "state-init-"));
  git(tmp, "init", "-q", "-b", STATE_BRANCH);
  writeFileSync(path.join(tmp, "README.md"), "Ledgers and audit records of the newsletter sends. Never edit by hand.\n");
  git(tmp, "add", "-A");
  gitAs(tmp, "github-actions[bot]", ["commit", "-q", "-m", "Start the newsletter-state branch"]);
  git(tmp, "push", "-q", w.origin, `HEAD:refs/heads/${STATE_BRANCH}`);
}

/** A file on origin's state branch, or null. */
export function originStateFile(w: OriginWorld, file: string): string | null {
  try {
    return execFileSync("git", ["show", `${STATE_BRANCH}:${file}`], { cwd: w.origin, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
}

export interface RunnerJob {
  ws: string;
  env: Record<string, string>;
  output: string;
  summary: string;
  runnerTemp: string;
}

/** A job's runner: event file, output and summary files, RUNNER_TEMP, the workspace, the runner's variables. */
export function runnerJob(
  w: OriginWorld,
  o: { eventName: string; event: unknown; ws: string; sha: string; repo: string; token: string; runId: number },
): RunnerJob {
  const dir = mkdtempSync(path.join(w.root, "runner-"));
  const eventPath = path.join(dir, "event.json");
  writeFileSync(eventPath, JSON.stringify(o.event, null, 2));
  const output = path.join(dir, "output");
  const summary = path.join(dir, "summary.md");
  writeFileSync(output, "");
  writeFileSync(summary, "");
  const runnerTemp = path.join(dir, "temp");
  mkdirSync(runnerTemp);
  return {
    ws: o.ws,
    output,
    summary,
    runnerTemp,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: o.eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_WORKSPACE: o.ws,
      GITHUB_REPOSITORY: o.repo,
      GITHUB_TOKEN: o.token,
      GITHUB_API_URL: w.fake.url,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_SHA: o.sha,
      GITHUB_RUN_ID: String(o.runId),
      GITHUB_RUN_ATTEMPT: "1",
      RUNNER_TEMP: runnerTemp,
      NEWSLETTER_STATE_DIR: ".newsletter-state",
    },
  };
}
