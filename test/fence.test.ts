/**
 * The fence outside the yard (docs/design.md, "Trust boundary"): what an
 * insider with plain write access could do on their own, each shown end to
 * end on the lifecycle's parts — a bare `origin` (code and state branch), the
 * GitHub fake (responses validated against GitHub's OpenAPI description, its
 * commits mirroring origin's), the in-process SMTP server — and each refused:
 *
 *   1. the approval environment's secrets: setup reports an environment open
 *      to every branch; approval copies are keyed by their own secret, never
 *      NEWSLETTER_SECRET;
 *   2. a newsletter pull request that also changes the tool: the gate refuses
 *      it (not-content-only), nothing is sent;
 *   3. what was sent is forgotten: a ledger deleted from the state branch by a
 *      plain push, then the send re-run: refused, nobody mailed again; and a
 *      state branch without its ruleset: refused before the first message;
 *   4. who pushed counts: an approver who pushed a commit under the author's
 *      git identity is not counted;
 *   5. forged checks: setup pins every required check to the app that reports
 *      it (the newsletter/* statuses to the App);
 *   6. `npm start` sends nothing for real, and `send` to a relay needs
 *      --require-approval or an explicit, warned, recorded --without-approval.
 *
 * Hermetic: the configuration, CODEOWNERS, lists and newsletters are written
 * here; the only project files read are the workflows (the tool's own code,
 * which `setup` derives the required checks from).
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendFromLedger } from "../src/actions/steps/audit.ts";
import { runStepInProcess } from "./helpers/step-process.ts";
import { GITHUB_ACTIONS_APP_ID } from "../src/setup/ruleset.ts";
import { newsletterWorld, startGitHubFake, type GitHubFake } from "./helpers/github-fake.ts";
import {
  checkout,
  checkoutState,
  ensureStateBranch,
  git,
  gitAs,
  initOrigin,
  mirror,
  originStateFile,
  runnerJob,
  stageFiles,
  STATE_BRANCH,
  writeFiles,
  type OriginWorld,
  type RunnerJob,
} from "./helpers/origin-world.ts";
import { PROJECT, runCli, type CliResult } from "./helpers/repo.ts";
import { generatedList, recipientAddress } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";
import { pushEvent } from "./helpers/webhook-events.ts";

const TOKEN = "ghs_FenceT0kenAbcdefghij0123456789klmnopqr";
const REPO = "corp/newsletters";
const SECRET = "fence-production-secret-0123456789abcdef";
const APPROVAL_SECRET = "fence-approval-secret-0123456789abcdef";
const N = 20;
const APPROVERS = ["alice@corp.example", "bob@corp.example", "carol@corp.example"];

const CONFIG = `sender:
  from: "Example Corp News <news@corp.example>"
  reply_to: support@corp.example
  list_id: product-news.corp.example
  unsubscribe:
    url: "https://corp.example/unsubscribe?u={{ unsubscribe_token }}"
    mailto: unsubscribe@corp.example
  postal_address: "Example Corp, 1-2-3 Chiyoda, Tokyo"
approvals:
  ordered: false
  stages:
    - { name: content, owners: ["@alice"] }
    - { name: privacy, owners: ["@bob"] }
    - { name: release, owners: ["@carol"] }
approvers:
  alice: alice@corp.example
  bob: bob@corp.example
  carol: carol@corp.example
leakage:
  allow_addresses: [support@corp.example]
  allow_domains: [corp.example]
  max_body_bytes: 102400
sending:
  rate_per_second: 10000
  connections: 5
  max_failure_rate: 0.05
`;

const CODEOWNERS = `* @carol
/newsletters/ @alice @bob @carol
/recipients/ @alice @bob @carol
`;

/** The repository's files on main: the configuration, CODEOWNERS, the lists and a stand-in for the tool. */
const BASE_FILES: Record<string, string> = {
  "README.md": "# Newsletters\n",
  ".github/newsletter.yml": CONFIG,
  ".github/CODEOWNERS": CODEOWNERS,
  "bin/newsletter.js": "// the tool\n",
  "recipients/customers.csv": generatedList(N),
  "recipients/suppressions.csv": `email\n${recipientAddress(3)}\n`,
};

function newsletterFiles(id: string): Record<string, string> {
  return {
    [`newsletters/${id}/newsletter.yml`]: `subject: "News ${id}"\nrecipients: customers\n`,
    [`newsletters/${id}/body.md`]: "# News\n\nDear {{ first_name }},\n\nYour plan: {{ plan }}.\n",
  };
}

interface World extends OriginWorld {
  smtp: TestSmtp;
  clock: number;
  runs: number;
}
let w: World;

function tick(): string {
  w.clock += 60_000;
  return new Date(w.clock).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function job(eventName: string, event: unknown, ws: string, sha: string): RunnerJob {
  w.runs++;
  return runnerJob(w, { eventName, event, ws, sha, repo: REPO, token: TOKEN, runId: 7000 + w.runs });
}

async function cli(j: RunnerJob, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  return runCli(["--root", j.ws, ...args], { cwd: j.ws, env: { ...j.env, ...extra } });
}

/** Messages that arrived for newsletter `id`, by envelope recipient (approval copies left out). */
function deliveries(id: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of w.smtp.received) {
    const mid = /^Message-ID:\s*<([^>]+)>/im.exec(m.raw.subarray(0, 8192).toString("utf8"))?.[1] ?? "";
    if (!mid.includes(`.${id}@`) || APPROVERS.includes(m.envelope.to[0] ?? "")) continue;
    for (const r of m.envelope.to) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

interface Pr {
  number: number;
  id: string;
  dir: string;
  branch: string;
  base: string;
  head: string;
  merge: string;
}

/** dana opens pull request `number` with newsletter `id` and any `extra` files on a branch from main. */
function openPr(number: number, id: string, extra: Record<string, string> = {}): Pr {
  const base = git(w.dev, "rev-parse", "main");
  const branch = `newsletter/${id}`;
  git(w.dev, "checkout", "-q", "-b", branch, "main");
  stageFiles(w.dev, { ...newsletterFiles(id), ...extra });
  gitAs(w.dev, "dana", ["commit", "-q", "-m", `${id}: draft`]);
  git(w.dev, "push", "-q", "origin", branch);
  const head = git(w.dev, "rev-parse", "HEAD");
  mirror(w, head);
  w.fake.push(branch, head, { actor: "dana", at: tick() });
  w.fake.pull({ number, title: id, user: "dana", head: { ref: branch, sha: head }, base: { ref: "main", sha: base }, commits: [head], reviews: [], createdAt: tick() });
  return { number, id, dir: `newsletters/${id}`, branch, base, head, merge: "" };
}

/** `pusher` pushes a commit to the pull request, written under the git identity `identity`. */
function pushTo(pr: Pr, pusher: string, identity: string, files: Record<string, string>): void {
  git(w.dev, "checkout", "-q", pr.branch);
  stageFiles(w.dev, files);
  gitAs(w.dev, identity, ["commit", "-q", "-m", "Polish"]);
  git(w.dev, "push", "-q", "origin", pr.branch);
  pr.head = git(w.dev, "rev-parse", "HEAD");
  mirror(w, pr.head);
  w.fake.push(pr.branch, pr.head, { actor: pusher, at: tick() });
  const p = w.fake.state.pulls.find((x) => x.number === pr.number)!;
  p.head = { ...p.head, sha: pr.head };
  p.commits.push(pr.head);
}

/** alice, bob and carol approve the head after its last push. */
function approveAll(pr: Pr): void {
  const p = w.fake.state.pulls.find((x) => x.number === pr.number)!;
  ["alice", "bob", "carol"].forEach((login, i) => p.reviews.push({ id: pr.number * 100 + i, user: login, state: "APPROVED", commitId: pr.head, submittedAt: tick() }));
}

/** carol merges with a merge commit; returns the push event. */
async function merge(pr: Pr): Promise<unknown> {
  git(w.dev, "checkout", "-q", "main");
  const before = git(w.dev, "rev-parse", "HEAD");
  const message = `Merge pull request #${pr.number} from corp/${pr.branch}`;
  gitAs(w.dev, "carol", ["merge", "-q", "--no-ff", "-m", message, pr.branch], "web-flow");
  git(w.dev, "push", "-q", "origin", "main");
  pr.merge = git(w.dev, "rev-parse", "HEAD");
  mirror(w, pr.merge);
  const at = tick();
  w.fake.push("main", pr.merge, { actor: "carol", at });
  Object.assign(w.fake.state.pulls.find((x) => x.number === pr.number)!, { state: "closed", merged: true, mergeCommitSha: pr.merge, mergedAt: at, mergedBy: "carol" });
  return pushEvent({ fake: w.fake, token: TOKEN, sender: "carol", ref: "refs/heads/main", before, after: pr.merge, message, timestamp: at });
}

interface SendRun {
  gate: CliResult;
  gateRequests: number;
  send: CliResult;
  audit: number;
  auditText: string;
}

/** newsletter-send.yml: the gate on the merged commit, then the send on a fresh runner with the state branch, then the audit step. */
async function sendWorkflow(pr: Pr, event: unknown): Promise<SendRun> {
  const rj = job("push", event, checkout(w, pr.merge), pr.merge);
  const from = w.fake.requests.length;
  const gate = await cli(rj, ["gate", "--sha", pr.merge, "--format", "json"]);
  const gateRequests = w.fake.requests.length - from;
  // The digest newsletter-pr.yml recorded on the head (the same inputs: the merge equals the head there).
  const digest = (JSON.parse((await cli(rj, ["manifest", pr.dir])).stdout) as { digest: string }).digest;
  ensureStateBranch(w);
  const j = job("push", event, checkout(w, pr.merge), pr.merge);
  checkoutState(w, j.ws);
  const send = await cli(j, ["send", pr.dir, "--require-approval"], { NEWSLETTER_SMTP_URL: w.smtp.url, NEWSLETTER_SECRET: SECRET, NEWSLETTER_STATE_BRANCH: STATE_BRANCH });
  let audit = -1;
  let auditText = "";
  if (gate.code === 0) {
    const r = await runStepInProcess(
      ["audit"],
      {
        ...j.env,
        NEWSLETTER_DIR: pr.dir,
        NEWSLETTER_DIGEST: digest,
        NEWSLETTER_SHA: pr.merge,
        NEWSLETTER_PR: String(pr.number),
        NEWSLETTER_GATE_JSON: gate.stdout.trim(),
        SEND_OUTCOME: send.code === 0 ? "success" : "failure",
      },
      j.ws,
    );
    audit = r.code;
    auditText = r.stdout + r.stderr;
  }
  return { gate, gateRequests, send, audit, auditText };
}

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), "nl-fence-"));
  const { origin, dev } = initOrigin(root);
  const fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
  const smtp = await startTestSmtp();
  w = { root, origin, dev, fake, smtp, clock: Date.now() - 5 * 3600_000, runs: 0 };
  stageFiles(dev, BASE_FILES);
  gitAs(dev, "carol", ["commit", "-q", "-m", "Newsletter repository"]);
  git(dev, "push", "-q", "origin", "main");
  const base = git(dev, "rev-parse", "HEAD");
  mirror(w, base);
  fake.push("main", base, { actor: "carol", at: tick() });
  newsletterWorld(fake, { contexts: ["check", "newsletter/approvals"], collaborators: { alice: "write", bob: "write", carol: "admin", dana: "write" } });
}, 60_000);

afterAll(async () => {
  await w?.smtp.close();
  // close() throws when any response drifted from GitHub's OpenAPI description.
  await w?.fake.close();
  if (w) rmSync(w.root, { recursive: true, force: true });
});

describe("the fence: what one writer cannot do alone", () => {
  it("a newsletter pull request that also changes the tool is refused by the gate (not-content-only); nothing is sent", async () => {
    const pr = openPr(21, "2026-12-02-tool-change", { "bin/newsletter.js": "// a gate that always approves\n" });
    approveAll(pr);
    const event = await merge(pr);
    const r = await sendWorkflow(pr, event);
    expect(r.gate.code, r.gate.stdout).toBe(1);
    const verdict = JSON.parse(r.gate.stdout) as { approved: boolean; problems: { code: string; text: string }[] };
    expect(verdict.approved).toBe(false);
    expect(verdict.problems.map((p) => p.code)).toEqual(["not-content-only"]);
    expect(verdict.problems[0]!.text).toContain("bin/newsletter.js");
    expect(r.send.code).toBe(1);
    expect(r.send.stderr).toContain("not-content-only");
    expect(deliveries(pr.id).size).toBe(0);
  }, 120_000);

  it("an approver who pushed to the pull request (under the author's git identity) does not count: [pusher]", async () => {
    const pr = openPr(22, "2026-12-03-pushed");
    // carol pushes a commit that git attributes to dana: only the repository activity names carol.
    pushTo(pr, "carol", "dana", { [`newsletters/${pr.id}/body.md`]: "# News\n\nDear {{ first_name }},\n\nYour plan: {{ plan }}. Polished.\n" });
    approveAll(pr);
    const j = job("pull_request_target", {}, checkout(w, pr.base), pr.head);
    const open = await cli(j, ["gate", "--pr", String(pr.number), "--format", "json"]);
    expect(open.code, open.stdout).toBe(1);
    const verdict = JSON.parse(open.stdout) as { notCounted: { login: string; reason: string }[]; stages: { name: string; approval?: unknown }[] };
    expect(verdict.notCounted).toContainEqual(expect.objectContaining({ login: "carol", reason: "pusher" }));
    expect(verdict.stages.find((s) => s.name === "release")!.approval).toBeUndefined();

    const event = await merge(pr);
    const r = await sendWorkflow(pr, event);
    expect(r.gate.code).toBe(1);
    expect(r.send.code).toBe(1);
    expect(deliveries(pr.id).size).toBe(0);
  }, 120_000);

  it("a ledger deleted from the state branch by a plain push: the re-run is refused and nobody is mailed again", async () => {
    const pr = openPr(23, "2026-12-04-sent-once");
    approveAll(pr);
    const event = await merge(pr);
    const first = await sendWorkflow(pr, event);
    expect(first.gate.code, first.gate.stdout + first.gate.stderr).toBe(0);
    expect(first.send.code, first.send.stderr).toBe(0);
    expect(first.audit, first.auditText).toBe(0);
    // The request budget of a typical `gate --sha`.
    console.log(`\ngate --sha of a typical pull request: ${first.gateRequests} GitHub API requests\n`);
    expect(first.gateRequests).toBeLessThanOrEqual(10);
    const sent = deliveries(pr.id);
    expect(sent.size).toBe(N - 1);
    expect(originStateFile(w, `audit/${pr.id}/all.json`)).not.toBeNull();

    // dana, a writer, deletes the ledger with a plain (not forced) push.
    const tmp = mkdtempSync(path.join(w.root, "forget-"));
    git(w.root, "clone", "-q", "--branch", STATE_BRANCH, w.origin, tmp);
    git(tmp, "rm", "-q", `ledger/${pr.id}/all.jsonl`);
    gitAs(tmp, "dana", ["commit", "-q", "-m", "tidy up"]);
    git(tmp, "push", "-q", "origin", STATE_BRANCH);
    expect(originStateFile(w, `ledger/${pr.id}/all.jsonl`)).toBeNull();

    const before = w.smtp.received.length;
    const again = await sendWorkflow(pr, event);
    expect(again.send.code).toBe(1);
    expect(again.send.stderr).toMatch(new RegExp(`newsletter ${pr.id} was already sent: its audit record audit/${pr.id}/all\\.json shows a send that began`));
    expect(w.smtp.received.length).toBe(before);
    // The refused run's audit step does not replace the record of the send that began, so a third run is refused too.
    expect(again.audit, again.auditText).toBe(0);
    expect(JSON.parse(originStateFile(w, `audit/${pr.id}/all.json`)!)).toMatchObject({ send: { outcome: "completed" } });
    const third = await sendWorkflow(pr, event);
    expect(third.send.code).toBe(1);
    expect(w.smtp.received.length).toBe(before);
  }, 180_000);

  it("a state branch without its ruleset: the send refuses before the first message", async () => {
    const pr = openPr(24, "2026-12-05-unprotected");
    approveAll(pr);
    const event = await merge(pr);
    const saved = w.fake.state.rulesets;
    w.fake.state.rulesets = saved.filter((r) => r.name !== "newsletter-state");
    try {
      const r = await sendWorkflow(pr, event);
      expect(r.gate.code, r.gate.stdout).toBe(0);
      expect(r.send.code).toBe(1);
      expect(r.send.stderr).toContain(`the state branch ${STATE_BRANCH} is not protected (missing rules: update, deletion, non_fast_forward)`);
      expect(deliveries(pr.id).size).toBe(0);
      expect(w.fake.requests.some((q) => q.route === "/repos/{owner}/{repo}/rules/branches/{branch}" && q.path.endsWith(`/${STATE_BRANCH}`))).toBe(true);
    } finally {
      w.fake.state.rulesets = saved;
    }
  }, 120_000);

  it("approval copies are keyed by their own secret: NEWSLETTER_SECRET alone is refused", async () => {
    const pr = openPr(25, "2026-12-06-approval-key");
    const j = job("pull_request_target", {}, checkout(w, pr.head), pr.head);
    const before = w.smtp.received.length;
    const withProductionKey = await cli(j, ["test-send", pr.dir], { NEWSLETTER_TEST_SMTP_URL: w.smtp.url, NEWSLETTER_SECRET: SECRET });
    expect(withProductionKey.code).toBe(1);
    expect(withProductionKey.stderr).toContain("NEWSLETTER_APPROVAL_SECRET is not set");
    expect(w.smtp.received.length).toBe(before);
    const same = await cli(j, ["test-send", pr.dir], { NEWSLETTER_TEST_SMTP_URL: w.smtp.url, NEWSLETTER_SECRET: SECRET, NEWSLETTER_APPROVAL_SECRET: SECRET });
    expect(same.code).toBe(1);
    const own = await cli(j, ["test-send", pr.dir], { NEWSLETTER_TEST_SMTP_URL: w.smtp.url, NEWSLETTER_APPROVAL_SECRET: APPROVAL_SECRET });
    expect(own.code, own.stderr).toBe(0);
    expect(w.smtp.received.slice(before).map((m) => m.envelope.to[0]).sort()).toEqual(APPROVERS);
  }, 120_000);
});

describe("the fence: setup pins the checks and reports open environments", () => {
  it("every required check is pinned to its app; an environment open to every branch is reported (exit 1)", async () => {
    const fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
    try {
      fake.state.tokenPermissions = { admin: true, maintain: true, push: true, triage: true, pull: true };
      fake.state.environments = { "newsletter-approval": { policy: null }, "newsletter-production": { policy: ["main"] } };
      const root = mkdtempSync(path.join(tmpdir(), "nl-fence-setup-"));
      writeFiles(root, { ".github/newsletter.yml": CONFIG });
      cpSync(path.join(PROJECT, ".github", "workflows"), path.join(root, ".github", "workflows"), { recursive: true });
      const env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: fake.url, NEWSLETTER_APP_ID: "4242" };
      const r = await runCli(["--root", root, "setup"], { env });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain("OPEN: environment newsletter-approval is OPEN to every branch");
      expect(r.stdout).toContain("ok: environment newsletter-production: only main may deploy");
      const main = fake.state.rulesets.find((x) => x.name === "newsletter")!;
      const checks = main.rules.find((x) => x.type === "required_status_checks")!.parameters!["required_status_checks"] as { context: string; integration_id?: number }[];
      expect(checks.length).toBeGreaterThan(0);
      for (const c of checks) expect(c.integration_id, c.context).toBe(c.context.startsWith("newsletter/") ? 4242 : GITHUB_ACTIONS_APP_ID);
      const state = fake.state.rulesets.find((x) => x.name === "newsletter-state")!;
      expect(state.include).toEqual([`refs/heads/${STATE_BRANCH}`]);
      expect(state.bypassActors).toEqual([{ actor_id: null, actor_type: "DeployKey", bypass_mode: "always" }]);
      expect(state.rules.map((x) => x.type).sort()).toEqual(["creation", "deletion", "non_fast_forward", "update"]);

      fake.state.environments["newsletter-approval"] = { policy: ["main"] };
      const again = await runCli(["--root", root, "setup"], { env });
      expect(again.code, again.stdout).toBe(0);
      expect(again.stdout).toContain("up to date, no write request made");
      rmSync(root, { recursive: true, force: true });
    } finally {
      await fake.close();
    }
  }, 60_000);
});

describe("the fence: no accidental real send", () => {
  /** A repository of its own with one newsletter, outside the origin world. */
  const repo = (): string => {
    const root = mkdtempSync(path.join(tmpdir(), "nl-fence-start-"));
    writeFiles(root, { ...BASE_FILES, ...newsletterFiles("2026-12-07-local") });
    return root;
  };

  it("`npm start` writes to the outbox only, even with NEWSLETTER_SMTP_URL exported", () => {
    const root = repo();
    const before = w.smtp.received.length;
    const r = spawnSync(process.execPath, [path.join(PROJECT, "bin", "start.js")], {
      cwd: root,
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, NEWSLETTER_SMTP_URL: w.smtp.url, NEWSLETTER_TEST_SMTP_URL: w.smtp.url, NEWSLETTER_SECRET: SECRET },
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain("npm start writes to the local outbox only: ignoring NEWSLETTER_SMTP_URL, NEWSLETTER_TEST_SMTP_URL");
    expect(w.smtp.received.length).toBe(before);
    const outbox = spawnSync("find", [path.join(root, "outbox"), "-name", "*.eml"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    expect(outbox.length).toBe(N - 1 + APPROVERS.length);
    rmSync(root, { recursive: true, force: true });
  }, 150_000);

  it("`send` to a relay needs --require-approval or --without-approval; the latter is warned and recorded", async () => {
    const root = repo();
    const dir = "newsletters/2026-12-07-local";
    const env = { NEWSLETTER_SMTP_URL: w.smtp.url, NEWSLETTER_SECRET: SECRET };
    const before = w.smtp.received.length;
    const bare = await runCli(["--root", root, "send", dir], { env });
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain("neither --require-approval");
    expect(w.smtp.received.length).toBe(before);

    const both = await runCli(["--root", root, "send", dir, "--require-approval", "--without-approval"], { env });
    expect(both.code).toBe(2);

    const unapproved = await runCli(["--root", root, "send", dir, "--without-approval"], { env });
    expect(unapproved.code, unapproved.stderr).toBe(0);
    expect(unapproved.stderr).toContain("WARNING: --without-approval: sending WITHOUT the approval gate");
    expect(deliveries("2026-12-07-local").size).toBe(N - 1);
    const ledgerFile = path.join(root, ".newsletter-state", "ledger", "2026-12-07-local", "all.jsonl");
    const ledger = readFileSync(ledgerFile, "utf8");
    expect(JSON.parse(ledger.split("\n")[0]!)).toMatchObject({ t: "begin", approval: "none" });
    // The audit record's send section says so.
    expect(sendFromLedger(ledger, "all", ledgerFile)).toMatchObject({ approval: "none", outcome: "completed" });
    rmSync(root, { recursive: true, force: true });
  }, 120_000);
});
