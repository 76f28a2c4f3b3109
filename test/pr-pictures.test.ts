/**
 * The pull request shows the email (docs/design.md, "Layout and pictures"),
 * lifecycle style: a bare git repository is `origin`, the GitHub API is the
 * OpenAPI-validated fake, each job gets a fresh clone, its event file, output
 * and summary files, and the step runs through its entry point
 * (`step pr-pictures`). The pull request's comment must hold two image links
 * that resolve in origin (the previews branch, by commit), be updated — not
 * duplicated — after a push, and never show a customer's row.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PICTURES_MARKER } from "../src/actions/pictures-comment.ts";
import { runStepInProcess } from "./helpers/step-process.ts";
import { BROWSER_PATHS } from "../src/picture/chromium.ts";
import { startGitHubFake, type GitHubFake } from "./helpers/github-fake.ts";
import { JA_FIXTURE as FIXTURE } from "./helpers/ja-fixture.ts";
import { pullRequestEvent } from "./helpers/webhook-events.ts";

const TOKEN = "ghs_Pictur3sT0ken0123456789abcdefghijklmnop";
const REPO = "corp/newsletters";
const ID = "2026-12-01-fuyu-news";
const DIR = `newsletters/${ID}`;
const CUSTOMERS = ["taro.yamada@example.com", "hanako.sato@example.net"];
const runBrowser = BROWSER_PATHS.some((p) => existsSync(p)) || process.env.CI === "true";
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}
function gitAs(cwd: string, login: string, ...args: string[]): string {
  const id = { GIT_AUTHOR_NAME: login, GIT_AUTHOR_EMAIL: `${login}@users.example.invalid`, GIT_COMMITTER_NAME: login, GIT_COMMITTER_EMAIL: `${login}@users.example.invalid` };
  return execFileSync("git", args, { cwd, env: { ...GIT_ENV, ...id }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

function copyTree(from: string, to: string): void {
  for (const name of readdirSync(from)) {
    const a = path.join(from, name);
    const b = path.join(to, name);
    if (statSync(a).isDirectory()) {
      mkdirSync(b, { recursive: true });
      copyTree(a, b);
    } else writeFileSync(b, readFileSync(a));
  }
}

let root: string;
let origin: string;
let dev: string;
let fake: GitHubFake;
let clock = Date.now() - 3600_000;
const tick = () => new Date((clock += 60_000)).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Mirrors a commit into the fake (its files' text and its author). */
function mirror(sha: string): void {
  const [author = "", date = "", ...msg] = git(dev, "show", "-s", "--format=%an%n%aI%n%B", sha).split("\n");
  const parents = git(dev, "rev-list", "--parents", "-n", "1", sha).split(" ").slice(1);
  const tree: Record<string, string> = {};
  for (const p of git(dev, "ls-tree", "-r", "--name-only", sha).split("\n").filter(Boolean)) tree[p] = git(dev, "show", `${sha}:${p}`);
  fake.user(author);
  fake.state.commits.push({ sha, parents, message: msg.join("\n").trim(), author, committer: author, date: new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z"), tree } as never);
}

/** One job of the PR workflow: a fresh clone at the head, its runner files, and the step. */
async function picturesJob(event: unknown, head: string): Promise<{ code: number; stdout: string; stderr: string; summary: string; outputs: string }> {
  const dir = mkdtempSync(path.join(root, "runner-"));
  const ws = mkdtempSync(path.join(root, "ws-"));
  git(root, "clone", "-q", "--no-checkout", origin, ws);
  git(ws, "checkout", "-q", "--detach", head);
  writeFileSync(path.join(dir, "event.json"), JSON.stringify(event));
  writeFileSync(path.join(dir, "output"), "");
  writeFileSync(path.join(dir, "summary.md"), "");
  mkdirSync(path.join(dir, "temp"));
  const { code, stdout, stderr } = await runStepInProcess(
    ["pr-pictures"],
    {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? dir,
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_EVENT_PATH: path.join(dir, "event.json"),
      GITHUB_OUTPUT: path.join(dir, "output"),
      GITHUB_STEP_SUMMARY: path.join(dir, "summary.md"),
      GITHUB_WORKSPACE: ws,
      GITHUB_REPOSITORY: REPO,
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: fake.url,
      GITHUB_SERVER_URL: "https://github.com",
      RUNNER_TEMP: path.join(dir, "temp"),
      NEWSLETTER_DIR: DIR,
      NEWSLETTER_PREVIEWS_REMOTE: origin,
    },
    ws,
  );
  return { code, stdout, stderr, summary: readFileSync(path.join(dir, "summary.md"), "utf8"), outputs: readFileSync(path.join(dir, "output"), "utf8") };
}

/** The image links of a comment body, each resolved in origin: the PNG's width. */
function resolveLinks(body: string): Array<{ url: string; sha: string; file: string; width: number }> {
  return [...body.matchAll(/<img src="([^"]+)"/g)].map((m) => {
    const url = m[1]!;
    const parsed = /^https:\/\/github\.com\/corp\/newsletters\/raw\/([0-9a-f]{40})\/(.+)$/.exec(url);
    expect(parsed, url).not.toBeNull();
    const [, sha, file] = parsed!;
    const bytes = execFileSync("git", ["--git-dir", origin, "cat-file", "blob", `${sha}:${file}`], { env: GIT_ENV, maxBuffer: 64 << 20 });
    // Kept for a reader to look at (the test output names them).
    const kept = path.join(tmpdir(), "newsletter-pictures", `pr-${sha!.slice(0, 8)}-${path.basename(file!)}`);
    mkdirSync(path.dirname(kept), { recursive: true });
    writeFileSync(kept, bytes);
    console.log(`picture: ${kept}`);
    return { url, sha: sha!, file: file!, width: PNG.sync.read(bytes).width };
  });
}

describe.runIf(runBrowser)("the pull request shows the email: pictures of the approval copy", () => {
  let head = "";
  let base = "";
  const ours = () => fake.state.issueComments.filter((c) => c.issueNumber === 7 && c.body.includes(PICTURES_MARKER));

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "nl-pictures-"));
    origin = path.join(root, "origin.git");
    git(root, "init", "-q", "--bare", "-b", "main", origin);
    dev = path.join(root, "dev");
    git(root, "clone", "-q", origin, dev);
    git(dev, "checkout", "-q", "-b", "main");
    fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
    // main: the Japanese fixture's config and lists, without the newsletter.
    copyTree(FIXTURE, dev);
    rmSync(path.join(dev, "newsletters"), { recursive: true });
    git(dev, "add", "-A");
    gitAs(dev, "carol", "commit", "-q", "-m", "Newsletter repository");
    git(dev, "push", "-q", "origin", "main");
    base = git(dev, "rev-parse", "HEAD");
    mirror(base);
    fake.push("main", base, { actor: "carol", at: tick() });
    // dana's pull request #7 adds the newsletter.
    git(dev, "checkout", "-q", "-b", `newsletter/${ID}`);
    copyTree(path.join(FIXTURE, "newsletters"), path.join(dev, "newsletters"));
    git(dev, "add", "-A");
    gitAs(dev, "dana", "commit", "-q", "-m", "Winter news");
    git(dev, "push", "-q", "origin", `newsletter/${ID}`);
    head = git(dev, "rev-parse", "HEAD");
    mirror(head);
    fake.push(`newsletter/${ID}`, head, { actor: "dana", at: tick() });
    fake.pull({ number: 7, title: ID, user: "dana", head: { ref: `newsletter/${ID}`, sha: head }, base: { ref: "main", sha: base }, commits: [head], reviews: [], createdAt: tick() } as never);
  }, 60_000);

  afterAll(async () => {
    await fake?.close(); // throws when a response drifted from GitHub's OpenAPI description
    if (root) rmSync(root, { recursive: true, force: true });
  });

  let first: ReturnType<typeof resolveLinks> = [];

  it("opened: one comment with a desktop and a phone picture that resolve in origin, and the text part collapsed", async () => {
    const event = await pullRequestEvent({ fake, token: TOKEN, sender: "dana", action: "opened", number: 7 });
    const r = await picturesJob(event, head);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(ours()).toHaveLength(1);
    const body = ours()[0]!.body;
    first = resolveLinks(body);
    expect(first.map((l) => [l.file, l.width])).toEqual([
      [`pr-7/${head}/desktop.png`, 600],
      [`pr-7/${head}/phone.png`, 375],
    ]);
    expect(git(root, "--git-dir", origin, "rev-parse", "refs/heads/newsletter-previews")).toBe(first[0]!.sha);
    expect(body).toContain("<details><summary>Text part</summary>");
    expect(body).toContain("‹first_name›様"); // the specimen row, not a customer's
    expect(body).toContain("承認用コピー");
    // The job summary shows the same pictures; the outputs name them.
    for (const l of first) {
      expect(r.summary).toContain(l.url);
      expect(r.outputs).toContain(l.url);
    }
    console.log(`pictures of #7 at ${head.slice(0, 12)}: ${first.map((l) => l.url).join(" ")}\n${r.stdout.trim()}`);
    writeFileSync(path.join(tmpdir(), "newsletter-pictures", "pr-comment.md"), body);
    // Never a customer's address or row, in the comment, the summary or the logs.
    for (const t of [body, r.summary, r.stdout, r.stderr, r.outputs]) {
      for (const a of CUSTOMERS) expect(t).not.toContain(a);
      expect(t).not.toContain("山田");
      expect(t).not.toContain(TOKEN);
    }
  });

  it("after a push: the same comment, updated, linking the new pictures; the old links still resolve", async () => {
    git(dev, "checkout", "-q", `newsletter/${ID}`);
    const bodyFile = path.join(dev, DIR, "body.md");
    writeFileSync(bodyFile, readFileSync(bodyFile, "utf8").replace("今後とも", "来年も今後とも"));
    git(dev, "add", "-A");
    gitAs(dev, "dana", "commit", "-q", "-m", "Wording");
    git(dev, "push", "-q", "origin", `newsletter/${ID}`);
    const before = head;
    head = git(dev, "rev-parse", "HEAD");
    mirror(head);
    fake.push(`newsletter/${ID}`, head, { actor: "dana", at: tick() });
    const p = fake.state.pulls.find((x) => x.number === 7)!;
    p.head = { ...p.head, sha: head };
    p.commits.push(head);
    const event = await pullRequestEvent({ fake, token: TOKEN, sender: "dana", action: "synchronize", number: 7, before, after: head });
    const r = await picturesJob(event, head);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain("Pictures comment updated");
    expect(ours()).toHaveLength(1);
    const links = resolveLinks(ours()[0]!.body);
    expect(links.map((l) => l.file)).toEqual([`pr-7/${head}/desktop.png`, `pr-7/${head}/phone.png`]);
    expect(links[0]!.sha).not.toBe(first[0]!.sha);
    expect(ours()[0]!.body).toContain("来年も今後とも");
    // A reader of an older version of the comment still sees its pictures.
    expect(resolveLinks(first.map((l) => `<img src="${l.url}"`).join("\n")).map((l) => l.width)).toEqual([600, 375]);
  });
});
