/**
 * The whole pull-request lifecycle of a newsletter,
 * driven through the step entry points (`step pr-comment`, `step
 * approval-record`, `step audit`) and the CLI, with the runner's environment
 * recreated for every job: GITHUB_EVENT_PATH (payloads validated against
 * @octokit/webhooks-schemas), GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP,
 * GITHUB_WORKSPACE (a fresh clone of origin per job, as actions/checkout
 * makes). The parts are real: a bare git repository is `origin` (the code,
 * and the `newsletter-state` branch), the local GitHub fake serves the REST
 * API (every response validated against GitHub's OpenAPI description; its
 * commits mirror origin's, SHA for SHA), the in-process SMTP server receives
 * the mail and mailparser reads it.
 *
 *   1. PR opened with a leak → `check --format github` fails (exit 1) with
 *      an annotation at the leaking line; the manifest comment says so.
 *   2. Fix pushed → checks pass; the comment is updated (not duplicated);
 *      the approval copy reaches the three approvers; its record goes on the PR.
 *   3. Three approvals (review events) → the gate passes.
 *   4. Merge (push event) → the send job: gate, send with the ledger pushed
 *      to the state branch, audit step: every recipient exactly once; the
 *      audit record on the state branch (read from the bare repo) and as a
 *      PR comment; the job summary and outputs.
 *   5. The push event delivered again → nothing more is sent.
 *   6. A second newsletter whose send is killed (-9) mid-send, re-run on a
 *      FRESH clone so only the state branch carries the ledger → resumes,
 *      no recipient gets it twice.
 * Throughout: no recipient address (nor an approver's) appears in any
 * annotation, summary, comment, output file, status, audit record or log
 * (all collected and scanned with the project's address finder).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MANIFEST_MARKER } from "../src/actions/steps/pr-comment.ts";
import { approvalMarker } from "../src/actions/steps/approval-record.ts";
import { auditMarker, validateAuditRecord, type AuditRecord } from "../src/audit/record.ts";
import { extractAddresses } from "../src/detect/extract.ts";
import { runStepInProcess } from "./helpers/step-process.ts";
import { newsletterWorld, startGitHubFake, type FakeCommit, type FakePull, type GitHubFake } from "./helpers/github-fake.ts";
import {
  checkout as checkoutAt,
  checkoutState as checkoutStateAt,
  ensureStateBranch as ensureStateBranchOf,
  git,
  gitAs,
  initOrigin,
  mirror as mirrorInto,
  originStateFile,
  runnerJob,
  STATE_BRANCH,
  type RunnerJob,
} from "./helpers/origin-world.ts";
import { PROJECT, runCli, sampleText, type CliResult } from "./helpers/repo.ts";
import { fastConfig, generatedList, recipientAddress } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";
import { pullRequestEvent, pushEvent, reviewSubmittedEvent } from "./helpers/webhook-events.ts";

const TOKEN = "ghs_L1fecycleT0ken0123456789abcdefghijklmn";
const REPO = "corp/newsletters";
const SECRET = "lifecycle-test-secret-0123456789abcdef";
const APPROVAL_SECRET = "lifecycle-approval-secret-0123456789";
/** Recipients in the list; one of them is suppressed. */
const N = 150;
const SUPPRESSED = 3;
const ID1 = "2026-12-01-winter-update";
const ID2 = "2026-12-15-year-end";
const DIR1 = `newsletters/${ID1}`;
const DIR2 = `newsletters/${ID2}`;
const LEAK_LINE = 5;
const APPROVERS = ["alice@corp.example", "bob@corp.example", "carol@corp.example"];
/** Messages of the second newsletter that arrive before its send is killed. */
const KILL_AFTER = 40;

// ---------------------------------------------------------------- the world

interface World {
  root: string;
  origin: string;
  dev: string;
  fake: GitHubFake;
  smtp: TestSmtp;
  /** Every text a user or a log could see, for the address scan. */
  seen: Array<{ where: string; text: string }>;
  /** A virtual clock for GitHub's server times (pushes, reviews), one minute per event. */
  clock: number;
  runs: number;
}

let w: World;
/** The killed send's ledger on origin at the moment of the kill. */
let remoteAtKill = { claimed: 0, sent: 0 };
const figures: Array<[string, string]> = [];
const started = Date.now();

function tick(): string {
  w.clock += 60_000;
  return new Date(w.clock).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function see(where: string, text: string): void {
  w.seen.push({ where, text });
}

const mirror = (sha: string): FakeCommit => mirrorInto(w, sha);
const checkout = (sha: string): string => checkoutAt(w, sha);
const checkoutState = (ws: string): string => checkoutStateAt(w, ws);
const ensureStateBranch = (): void => ensureStateBranchOf(w);

type Job = RunnerJob;

/** A job's runner: event file, output and summary files, RUNNER_TEMP, the workspace. */
function job(eventName: string, event: unknown, ws: string, sha: string): Job {
  w.runs++;
  return runnerJob(w, { eventName, event, ws, sha, repo: REPO, token: TOKEN, runId: 9000 + w.runs });
}

/** Collects a job's output and summary files for the address scan. */
function collect(j: Job, label: string): { outputs: string; summary: string } {
  const outputs = readFileSync(j.output, "utf8");
  const summary = readFileSync(j.summary, "utf8");
  see(`${label}: GITHUB_OUTPUT`, outputs);
  see(`${label}: GITHUB_STEP_SUMMARY`, summary);
  return { outputs, summary };
}

function outputsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const heredoc = /^([A-Za-z_][\w-]*)<<(.+)$/.exec(l);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      out[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else if (l.includes("=")) {
      out[l.slice(0, l.indexOf("="))] = l.slice(l.indexOf("=") + 1);
    }
  }
  return out;
}

/** A CLI command in the job, as `npm run -s newsletter -- --root $GITHUB_WORKSPACE ...` would run it. */
async function cli(j: Job, label: string, args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  // @actions/core (check --format github) reads GITHUB_STEP_SUMMARY from process.env.
  const saved = process.env.GITHUB_STEP_SUMMARY;
  process.env.GITHUB_STEP_SUMMARY = j.env.GITHUB_STEP_SUMMARY;
  try {
    const r = await runCli(["--root", j.ws, ...args], { cwd: j.ws, env: { ...j.env, ...extra } });
    see(`${label}: stdout`, r.stdout);
    see(`${label}: stderr`, r.stderr);
    return r;
  } finally {
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = saved;
  }
}

/** A step entry point in the job (`npm run -s step -- <name>`), in process, every stream captured. */
async function step(j: Job, name: string, extra: Record<string, string> = {}): Promise<CliResult> {
  const { code, stdout, stderr } = await runStepInProcess([name], { ...j.env, ...extra }, j.ws);
  see(`step ${name}: stdout`, stdout);
  see(`step ${name}: stderr`, stderr);
  // Never a stack trace, never the token.
  for (const t of [stdout, stderr]) {
    expect(t).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(t).not.toContain(TOKEN);
  }
  return { code, stdout, stderr };
}

function pull(n: number): FakePull {
  const p = w.fake.state.pulls.find((x) => x.number === n);
  if (!p) throw new Error(`no pull ${n}`);
  return p;
}

function commentsWith(n: number, marker: string) {
  return w.fake.state.issueComments.filter((c) => c.issueNumber === n && c.body.includes(marker));
}

/** Messages the SMTP server accepted for newsletter `id` (by its Message-ID), by envelope recipient. */
function deliveries(id: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of w.smtp.received) {
    const head = m.raw.subarray(0, 8192).toString("utf8");
    const mid = /^Message-ID:\s*<([^>]+)>/im.exec(head)?.[1] ?? "";
    if (!mid.includes(`.${id}@`)) continue;
    if (APPROVERS.includes(m.envelope.to[0] ?? "")) continue; // approval copies
    for (const r of m.envelope.to) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

/** The list's recipients that are mailed (the suppressed one is not). */
const RECIPIENTS = Array.from({ length: N }, (_, i) => recipientAddress(i)).filter((_, i) => i !== SUPPRESSED);

function originFile(file: string): string | null {
  return originStateFile(w, file);
}

function body(id: string, leak: boolean): string {
  const lines = [
    `# ${id === ID1 ? "Winter update" : "Year-end notes"}`,
    "",
    "Dear {{ first_name }},",
    "",
    leak ? `Questions? Write to ${recipientAddress(7)} any time.` : "Questions? Write to support@corp.example any time.",
    "",
    "Your plan: {{ plan }}.",
    "",
  ];
  return lines.join("\n");
}

function meta(subject: string): string {
  return `subject: "${subject}"\nrecipients: customers\n`;
}

// ---------------------------------------------------------------- the pull request, step by step

interface Pr {
  number: number;
  id: string;
  dir: string;
  branch: string;
  head: string;
  base: string;
  digest: string;
  messageIds: string[];
  merge: string;
}

/** dana writes the newsletter on a branch and opens pull request `number` (the first push may leak). */
async function openPr(number: number, id: string, leak: boolean): Promise<{ pr: Pr; event: unknown }> {
  const base = git(w.dev, "rev-parse", "main");
  const branch = `newsletter/${id}`;
  git(w.dev, "checkout", "-q", "-b", branch, "main");
  mkdirSync(path.join(w.dev, "newsletters", id), { recursive: true });
  writeFileSync(path.join(w.dev, "newsletters", id, "newsletter.yml"), meta(id === ID1 ? "Winter update" : "Year-end notes"));
  writeFileSync(path.join(w.dev, "newsletters", id, "body.md"), body(id, leak));
  git(w.dev, "add", "-A");
  gitAs(w.dev, "dana", ["commit", "-q", "-m", `${id}: first draft`]);
  git(w.dev, "push", "-q", "origin", branch);
  const head = git(w.dev, "rev-parse", "HEAD");
  mirror(head);
  w.fake.push(branch, head, { actor: "dana", at: tick() });
  w.fake.pull({
    number,
    title: id,
    user: "dana",
    head: { ref: branch, sha: head },
    base: { ref: "main", sha: base },
    commits: [head],
    reviews: [],
    createdAt: tick(),
  });
  const event = await pullRequestEvent({ fake: w.fake, token: TOKEN, sender: "dana", action: "opened", number });
  return { pr: { number, id, dir: `newsletters/${id}`, branch, head, base, digest: "", messageIds: [], merge: "" }, event };
}

/** dana pushes `files` to the pull request's branch; returns the synchronize event. */
async function pushToPr(pr: Pr, files: Record<string, string>, message: string): Promise<unknown> {
  git(w.dev, "checkout", "-q", pr.branch);
  for (const [f, content] of Object.entries(files)) writeFileSync(path.join(w.dev, f), content);
  git(w.dev, "add", "-A");
  gitAs(w.dev, "dana", ["commit", "-q", "-m", message]);
  git(w.dev, "push", "-q", "origin", pr.branch);
  const before = pr.head;
  pr.head = git(w.dev, "rev-parse", "HEAD");
  mirror(pr.head);
  w.fake.push(pr.branch, pr.head, { actor: "dana", at: tick() });
  const p = pull(pr.number);
  p.head = { ...p.head, sha: pr.head };
  p.commits.push(pr.head);
  return pullRequestEvent({ fake: w.fake, token: TOKEN, sender: "dana", action: "synchronize", number: pr.number, before, after: pr.head });
}

/** The PR workflow's check job and approval-copy job on `event`; returns the check's exit code. */
async function prWorkflow(pr: Pr, event: unknown, label: string): Promise<{ check: CliResult; comment: CliResult; j: Job }> {
  const j = job("pull_request", event, checkout(pr.head), pr.head);
  const check = await cli(j, `${label} check`, ["check", pr.dir, "--format", "github"]);
  const checkOutcome = check.code === 0 ? "success" : "failure";
  if (check.code === 0) {
    const m = await cli(j, `${label} manifest`, ["manifest", pr.dir]);
    expect(m.code).toBe(0);
    pr.digest = (JSON.parse(m.stdout) as { digest: string }).digest;
  }
  const comment = await step(j, "pr-comment", { NEWSLETTER_DIR: pr.dir, CHECK_OUTCOME: checkOutcome });
  collect(j, `${label} check job`);
  return { check, comment, j };
}

/** The approval-copy job: test-send, then the approval-record step. */
async function approvalCopyJob(pr: Pr, event: unknown, label: string): Promise<void> {
  const j = job("pull_request", event, checkout(pr.head), pr.head);
  const env = { NEWSLETTER_TEST_SMTP_URL: w.smtp.url, NEWSLETTER_APPROVAL_SECRET: APPROVAL_SECRET };
  const before = w.smtp.received.length;
  const sent = await cli(j, `${label} test-send`, ["test-send", pr.dir], env);
  expect(sent.code, sent.stderr).toBe(0);
  const copies = w.smtp.received.slice(before);
  expect(copies.map((m) => m.envelope.to).sort()).toEqual(APPROVERS.map((a) => [a]));
  for (const m of copies) {
    const parsed = await simpleParser(m.raw);
    const to = Array.isArray(parsed.to) ? parsed.to : parsed.to ? [parsed.to] : [];
    // One recipient per message, no Cc/Bcc; the approval copy shows the digest that will be sent.
    expect(to.flatMap((t) => t.value.map((v) => v.address))).toEqual(m.envelope.to);
    expect(parsed.cc).toBeUndefined();
    expect(parsed.bcc).toBeUndefined();
    expect(`${parsed.text ?? ""}`).toContain(pr.digest);
    pr.messageIds.push(parsed.messageId!.replace(/^<|>$/g, ""));
  }
  const r = await step(j, "approval-record", { NEWSLETTER_DIR: pr.dir });
  expect(r.code, r.stdout).toBe(0);
  collect(j, `${label} approval-copy job`);
}

/** alice, bob and carol approve the head after its last push; the gate workflow runs on each review. */
async function approve(pr: Pr): Promise<CliResult> {
  let last: CliResult | undefined;
  const ids: Record<string, number> = { alice: 7001, bob: 7002, carol: 7003 };
  for (const login of ["alice", "bob", "carol"]) {
    const reviewId = ids[login]! + pr.number * 10;
    pull(pr.number).reviews.push({ id: reviewId, user: login, state: "APPROVED", commitId: pr.head, submittedAt: tick() });
    const event = await reviewSubmittedEvent({ fake: w.fake, token: TOKEN, sender: login, number: pr.number, reviewId });
    const j = job("pull_request_review", event, checkout(pr.base), pr.head);
    last = await cli(j, `gate after ${login}`, ["gate", "--pr", String(pr.number), "--format", "json", "--publish-status"]);
    collect(j, `gate job after ${login}`);
  }
  return last!;
}

/** carol merges with a merge commit; returns the push event. */
async function merge(pr: Pr): Promise<unknown> {
  git(w.dev, "checkout", "-q", "main");
  const before = git(w.dev, "rev-parse", "HEAD");
  const message = `Merge pull request #${pr.number} from corp/${pr.branch}`;
  gitAs(w.dev, "carol", ["merge", "-q", "--no-ff", "-m", message, pr.branch], "web-flow");
  git(w.dev, "push", "-q", "origin", "main");
  pr.merge = git(w.dev, "rev-parse", "HEAD");
  mirror(pr.merge);
  const at = tick();
  w.fake.push("main", pr.merge, { actor: "carol", at });
  Object.assign(pull(pr.number), { state: "closed", merged: true, mergeCommitSha: pr.merge, mergedAt: at, mergedBy: "carol" });
  return pushEvent({ fake: w.fake, token: TOKEN, sender: "carol", ref: "refs/heads/main", before, after: pr.merge, message, timestamp: at });
}

interface SendJob {
  j: Job;
  gate: CliResult;
  send: CliResult | null;
  audit: CliResult;
  outputs: Record<string, string>;
  summary: string;
}

/** newsletter-send.yml: resolve (gate --sha, JSON to RUNNER_TEMP and on as an output), state branch, send, audit. */
async function sendWorkflow(pr: Pr, event: unknown, label: string, o: { killAfter?: number } = {}): Promise<SendJob & { killedAt?: number }> {
  // resolve job
  const rj = job("push", event, checkout(pr.merge), pr.merge);
  const gate = await cli(rj, `${label} gate --sha`, ["gate", "--sha", pr.merge, "--format", "json"]);
  writeFileSync(path.join(rj.runnerTemp, "gate.json"), gate.stdout);
  collect(rj, `${label} resolve job`);
  // send job: a fresh runner, its own checkout and state branch checkout.
  ensureStateBranch();
  const j = job("push", event, checkout(pr.merge), pr.merge);
  checkoutState(j.ws);
  const sendEnv = {
    NEWSLETTER_SMTP_URL: w.smtp.url,
    NEWSLETTER_SECRET: SECRET,
    NEWSLETTER_STATE_BRANCH: STATE_BRANCH,
  };
  const args = ["send", pr.dir, "--require-approval", "--expect-digest", pr.digest];
  let send: CliResult | null = null;
  let killedAt: number | undefined;
  let sendOutcome = "success";
  if (o.killAfter === undefined) {
    send = await cli(j, `${label} send`, args, sendEnv);
    sendOutcome = send.code === 0 ? "success" : "failure";
  } else {
    // The runner dies: the send process is killed with SIGKILL once `killAfter` messages arrived.
    const child = spawn(process.execPath, [path.join(PROJECT, "bin", "newsletter.js"), "--root", j.ws, ...args], {
      cwd: j.ws,
      env: { ...j.env, ...sendEnv },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const n = [...deliveries(pr.id).values()].reduce((a, b) => a + b, 0);
      if (n >= o.killAfter) {
        child.kill("SIGKILL");
        killedAt = n;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await exited;
    see(`${label} killed send: output`, out);
    // What origin holds the moment the process died (before the audit step's checkpoint).
    const text = originFile(`ledger/${pr.id}/all.jsonl`) ?? "";
    const lines = text.split("\n").filter(Boolean);
    remoteAtKill = {
      claimed: lines.filter((l) => l.includes('"t":"claim"')).reduce((n, l) => n + (JSON.parse(l) as { fps: string[] }).fps.length, 0),
      sent: lines.filter((l) => l.includes('"t":"sent"')).length,
    };
    sendOutcome = "cancelled";
    expect(killedAt, `the send ended before ${o.killAfter} messages arrived:\n${out}`).toBeDefined();
  }
  const audit = await step(j, "audit", {
    NEWSLETTER_DIR: pr.dir,
    NEWSLETTER_DIGEST: pr.digest,
    NEWSLETTER_SHA: pr.merge,
    NEWSLETTER_PR: String(pr.number),
    NEWSLETTER_GATE_JSON: gate.stdout.trim(),
    SEND_OUTCOME: sendOutcome,
  });
  const { outputs, summary } = collect(j, `${label} send job`);
  return { j, gate, send, audit, outputs: outputsOf(outputs), summary, ...(killedAt !== undefined ? { killedAt } : {}) };
}

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  const root = mkdtempSync(path.join(tmpdir(), "nl-lifecycle-"));
  const { origin, dev } = initOrigin(root);
  const fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
  const smtp = await startTestSmtp();
  w = { root, origin, dev, fake, smtp, seen: [], clock: Date.now() - 3 * 3600_000, runs: 0 };

  // main: configuration (rate limited, so a kill lands mid-send), CODEOWNERS, the list, suppressions.
  const files: Record<string, string> = {
    "README.md": "# Newsletters\n\nEach newsletter is a pull request.\n",
    ".github/newsletter.yml": fastConfig().replace("rate_per_second: 10000", "rate_per_second: 60"),
    ".github/CODEOWNERS": sampleText(".github/CODEOWNERS"),
    "recipients/customers.csv": generatedList(N),
    "recipients/suppressions.csv": `email\n${recipientAddress(SUPPRESSED)}\n`,
  };
  for (const [f, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dev, f)), { recursive: true });
    writeFileSync(path.join(dev, f), content);
  }
  git(dev, "add", "-A");
  gitAs(dev, "carol", ["commit", "-q", "-m", "Newsletter repository"]);
  git(dev, "push", "-q", "origin", "main");
  const base = git(dev, "rev-parse", "HEAD");
  mirror(base);
  fake.push("main", base, { actor: "carol", at: tick() });

  newsletterWorld(fake, {
    contexts: ["check", "newsletter/approvals"],
    collaborators: { alice: "write", bob: "write", carol: "admin", dana: "write" },
  });
}, 120_000);

afterAll(async () => {
  figures.push(["wall time of the lifecycle", `${((Date.now() - started) / 1000).toFixed(1)} s`]);
  figures.push(["GitHub API requests (fake)", String(w?.fake.requests.length ?? 0)]);
  console.log(`\nPR lifecycle figures:\n${figures.map(([k, v]) => `  ${k.padEnd(48)} ${v}`).join("\n")}\n`);
  if (process.env.LIFECYCLE_DUMP && w) {
    // For a reader: every comment, summary and log line the lifecycle produced.
    writeFileSync(process.env.LIFECYCLE_DUMP, [
      ...w.fake.state.issueComments.map((c) => `===== comment ${c.id} by ${c.user} on #${c.issueNumber}\n${c.body}`),
      ...w.seen.map((s) => `===== ${s.where}\n${s.text}`),
    ].join("\n"));
  }
  await w?.smtp.close();
  // close() throws when any response drifted from GitHub's OpenAPI description.
  await w?.fake.close();
  if (w) rmSync(w.root, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the lifecycle

describe("a newsletter's pull request, from the first push to the send", () => {
  const pr1 = {} as Pr;

  it("PR opened with a leak: the check fails with an annotation at the leaking line; the manifest comment says so", async () => {
    const { pr, event } = await openPr(1, ID1, true);
    Object.assign(pr1, pr);
    // Someone else's comment carrying the tool's marker: never updated, never believed.
    w.fake.user("mallory");
    w.fake.state.issueComments.push({ id: 555, issueNumber: 1, user: "mallory", body: `${MANIFEST_MARKER}\nForged: all checks passed`, createdAt: tick(), updatedAt: tick() });

    const { check, comment } = await prWorkflow(pr1, event, "opened");
    expect(check.code).toBe(1);
    const annotation = check.stdout.split("\n").find((l) => l.startsWith("::error ") && l.includes(`file=${DIR1}/body.md`));
    expect(annotation, check.stdout).toBeDefined();
    expect(annotation).toContain(`line=${LEAK_LINE}`);
    expect(check.stdout).not.toContain(recipientAddress(7));
    expect(comment.code, comment.stdout).toBe(0);

    const ours = commentsWith(1, MANIFEST_MARKER).filter((c) => c.user === "github-actions[bot]");
    expect(ours).toHaveLength(1);
    expect(ours[0]!.body).toMatch(/❌ \d+ errors?/);
    expect(ours[0]!.body).toContain(`${DIR1}/body.md:${LEAK_LINE}`);
    expect(w.fake.state.issueComments.find((c) => c.id === 555)!.body).toBe(`${MANIFEST_MARKER}\nForged: all checks passed`);

    // The gate workflow on the open PR: progress, not approved.
    const j = job("pull_request", event, checkout(pr1.base), pr1.head);
    const gate = await cli(j, "gate opened", ["gate", "--pr", "1", "--format", "json", "--publish-status"]);
    expect(gate.code).toBe(1);
    expect(w.fake.state.statuses.at(-1)).toMatchObject({ context: "newsletter/approvals", state: "pending", sha: pr1.head });
  }, 120_000);

  it("fix pushed: checks pass, the same comment is updated, the approval copy reaches the three approvers and is recorded on the PR", async () => {
    const event = await pushToPr(pr1, { [`${DIR1}/body.md`]: body(ID1, false) }, "Remove the customer's address");
    const { check, comment } = await prWorkflow(pr1, event, "synchronize");
    expect(check.code, check.stdout).toBe(0);
    expect(comment.code).toBe(0);
    expect(pr1.digest).toMatch(/^[0-9a-f]{64}$/);
    const ours = commentsWith(1, MANIFEST_MARKER).filter((c) => c.user === "github-actions[bot]");
    expect(ours).toHaveLength(1); // updated, not duplicated
    expect(ours[0]!.body).toContain("✅ checks passed");
    expect(ours[0]!.body).toContain(pr1.digest);
    expect(ours[0]!.body).toContain(`${(N - 1).toLocaleString("en-US")} to send, 1 suppressed`);

    // A forged approval record for the same head, by someone else: the audit must not believe it.
    w.fake.state.issueComments.push({
      id: 556,
      issueNumber: 1,
      user: "dana",
      body: `${approvalMarker(ID1, pr1.head)}\n<!-- newsletter-approval-copy-data ${JSON.stringify({ v: 1, id: ID1, head_sha: pr1.head, digest: pr1.digest, at: "2026-01-01T00:00:00Z", message_ids: [`${"f".repeat(32)}.${ID1}@corp.example`], logins: ["dana"] })} -->`,
      createdAt: tick(),
      updatedAt: tick(),
    });

    await approvalCopyJob(pr1, event, "synchronize");
    expect(pr1.messageIds).toHaveLength(3);
    const record = commentsWith(1, approvalMarker(ID1, pr1.head)).filter((c) => c.user === "github-actions[bot]");
    expect(record).toHaveLength(1);
    for (const id of pr1.messageIds) expect(record[0]!.body).toContain(id);
    figures.push(["approval copies (alice, bob, carol)", String(pr1.messageIds.length)]);
  }, 120_000);

  it("three approvals on the final head: the gate passes", async () => {
    const gate = await approve(pr1);
    expect(gate.code, gate.stdout).toBe(0);
    const r = JSON.parse(gate.stdout) as { approved: boolean; stages: Array<{ name: string; approval?: { login: string } }> };
    expect(r.approved).toBe(true);
    expect(r.stages.map((s) => `${s.name}:${s.approval?.login}`)).toEqual(["content:alice", "privacy:bob", "release:carol"]);
    expect(w.fake.state.statuses.at(-1)).toMatchObject({ context: "newsletter/approvals", state: "success", sha: pr1.head });
  }, 120_000);

  it("merge: the send delivers to every recipient exactly once; the audit record is on the state branch and on the PR", async () => {
    const event = await merge(pr1);
    const t0 = Date.now();
    const r = await sendWorkflow(pr1, event, "merge");
    const took = Date.now() - t0;
    expect(r.gate.code, r.gate.stdout).toBe(0);
    expect(r.send!.code, `${r.send!.stdout}\n${r.send!.stderr}`).toBe(0);
    expect(r.audit.code, r.audit.stdout).toBe(0);

    const counts = deliveries(ID1);
    expect([...counts.keys()].sort()).toEqual([...RECIPIENTS].sort());
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(counts.has(recipientAddress(SUPPRESSED))).toBe(false);
    figures.push(["send of newsletter 1: messages / recipients", `${[...counts.values()].reduce((a, b) => a + b, 0)} / ${RECIPIENTS.length}`]);
    figures.push(["send of newsletter 1: duplicates", String([...counts.values()].filter((n) => n > 1).length)]);
    figures.push(["send job of newsletter 1 (gate, send, audit)", `${(took / 1000).toFixed(1)} s`]);

    // On the state branch, read from the bare repository: the ledger and the audit record.
    expect(originFile(`ledger/${ID1}/all.jsonl`)).toContain('"t":"end"');
    const audit = validateAuditRecord(JSON.parse(originFile(`audit/${ID1}/all.json`)!)) as AuditRecord;
    expect(audit).toMatchObject({
      newsletter: ID1,
      repository: REPO,
      pr: { number: 1, head_sha: pr1.head, merge_sha: pr1.merge, base_ref: "main" },
      digest: pr1.digest,
      gate: { approved: true },
      send: { shard: "all", outcome: "completed", counts: { total: N - 1, sent: N - 1, failed: 0, in_doubt: 0, skipped: 0 } },
    });
    expect(audit.approvals.map((a) => [a.stage, a.login, a.review_id, a.commit])).toEqual([
      ["content", "alice", 7011, pr1.head],
      ["privacy", "bob", 7012, pr1.head],
      ["release", "carol", 7013, pr1.head],
    ]);
    // The approval copies are ours (from the comment by github-actions[bot]), not the forged ones.
    expect(audit.approval_copies?.message_ids.slice().sort()).toEqual(pr1.messageIds.slice().sort());
    expect(Date.parse(audit.send!.ended_at)).toBeGreaterThanOrEqual(Date.parse(audit.send!.started_at));

    // As a PR comment, in the job summary, as outputs.
    const comments = commentsWith(1, auditMarker(ID1, "all"));
    expect(comments).toHaveLength(1);
    expect(comments[0]!.user).toBe("github-actions[bot]");
    expect(comments[0]!.body).toContain(`${(N - 1).toLocaleString("en-US")} sent of ${(N - 1).toLocaleString("en-US")}`);
    expect(r.summary).toContain(auditMarker(ID1, "all"));
    expect(r.outputs).toMatchObject({ record_path: `audit/${ID1}/all.json`, outcome: "completed", sent: String(N - 1), in_doubt: "0", approved: "true" });
  }, 240_000);

  it("the push event delivered again: nothing more is sent, the audit comment is updated in place", async () => {
    const before = w.smtp.received.length;
    const event = await pushEvent({ fake: w.fake, token: TOKEN, sender: "carol", ref: "refs/heads/main", before: pr1.base, after: pr1.merge, message: "again", timestamp: tick() });
    const r = await sendWorkflow(pr1, event, "redelivered");
    expect(r.send!.code, r.send!.stderr).toBe(0);
    expect(w.smtp.received.length).toBe(before);
    expect(commentsWith(1, auditMarker(ID1, "all"))).toHaveLength(1);
    expect(r.outputs).toMatchObject({ outcome: "completed", sent: String(N - 1) });
    figures.push(["re-delivered push: messages sent", String(w.smtp.received.length - before)]);
  }, 240_000);

  it("a send killed (-9) mid-send resumes on a fresh clone from the state branch, without duplicates", async () => {
    const { pr: pr2, event: opened } = await openPr(2, ID2, false);
    const check = await prWorkflow(pr2, opened, "pr2 opened");
    expect(check.check.code, check.check.stdout).toBe(0);
    await approvalCopyJob(pr2, opened, "pr2");
    expect((await approve(pr2)).code).toBe(0);
    const event = await merge(pr2);

    const killed = await sendWorkflow(pr2, event, "pr2 killed", { killAfter: KILL_AFTER });
    expect(killed.audit.code, killed.audit.stdout).toBe(0);
    const released = Number(/Released (\d+) recipient/.exec(killed.audit.stdout)?.[1] ?? 0);
    const afterKill = deliveries(ID2);
    const arrived = [...afterKill.values()].reduce((a, b) => a + b, 0);
    // What the remote holds after the kill: claims pushed before their batches (and the audit step's checkpoint).
    const ledgerAfterKill = originFile(`ledger/${ID2}/all.jsonl`) ?? "";
    const claimed = ledgerAfterKill.split("\n").filter((l) => l.includes('"t":"claim"')).reduce((n, l) => n + (JSON.parse(l) as { fps: string[] }).fps.length, 0);
    expect(claimed).toBeGreaterThanOrEqual(arrived);
    expect(killed.outputs["outcome"]).toBe("halted");
    // Claims reach origin before their batch is sent: every message that arrived was claimed there already.
    expect(remoteAtKill.claimed).toBeGreaterThanOrEqual(arrived);
    const haltedRecord = validateAuditRecord(JSON.parse(originFile(`audit/${ID2}/all.json`)!));
    expect(haltedRecord.send).toMatchObject({ outcome: "halted" });
    expect(haltedRecord.send!.detail).toMatch(/no end record/);

    // Re-run: a fresh runner, a fresh clone: only the state branch carries the ledger.
    const t0 = Date.now();
    const rerun = await sendWorkflow(pr2, event, "pr2 re-run");
    const took = Date.now() - t0;
    expect([0, 3]).toContain(rerun.send!.code);
    const counts = deliveries(ID2);
    const dupes = [...counts.values()].filter((n) => n > 1).length;
    expect(dupes).toBe(0);
    const audit = validateAuditRecord(JSON.parse(originFile(`audit/${ID2}/all.json`)!));
    const c = audit.send!.counts;
    const delivered = [...counts.keys()].length;
    // Every recipient is sent or in doubt; in doubt are those claimed when the runner died, never resent.
    expect(c.sent + c.in_doubt + c.failed).toBe(N - 1);
    expect(c.skipped).toBe(0);
    expect(delivered).toBeGreaterThanOrEqual(c.sent);
    expect(delivered).toBeLessThanOrEqual(c.sent + c.in_doubt);
    // In doubt: at most what was in flight when the process died (the send's window on a state branch: 2 groups of 10).
    expect(c.in_doubt).toBeLessThanOrEqual(20);
    for (const a of counts.keys()) expect(RECIPIENTS).toContain(a);
    expect(commentsWith(2, auditMarker(ID2, "all"))).toHaveLength(1);
    figures.push(["newsletter 2: messages when killed (-9)", String(killed.killedAt)]);
    figures.push(["newsletter 2: on origin at the kill: claimed / sent records", `${remoteAtKill.claimed} / ${remoteAtKill.sent}`]);
    figures.push(["newsletter 2: after the audit checkpoint: arrived / claimed", `${arrived} / ${claimed}`]);
    figures.push(["newsletter 2: unpushed claims released by the audit step", String(released)]);
    figures.push(["newsletter 2: after the re-run sent / in doubt / delivered", `${c.sent} / ${c.in_doubt} / ${delivered}`]);
    figures.push(["newsletter 2: duplicates", String(dupes)]);
    figures.push(["newsletter 2: re-run send job", `${(took / 1000).toFixed(1)} s`]);
  }, 300_000);

  it("no recipient's or approver's address appears in any annotation, summary, comment, status, output, record or log", () => {
    const forbidden = new Set([...RECIPIENTS, recipientAddress(SUPPRESSED), ...APPROVERS].map((a) => a.toLowerCase()));
    for (const c of w.fake.state.issueComments) see(`comment ${c.id} by ${c.user}`, c.body);
    for (const s of w.fake.state.statuses) see(`status ${s.context}`, s.description ?? "");
    for (const id of [ID1, ID2]) {
      see(`audit record ${id}`, originFile(`audit/${id}/all.json`) ?? "");
      see(`ledger ${id}`, originFile(`ledger/${id}/all.jsonl`) ?? "");
    }
    const leaks: string[] = [];
    let chars = 0;
    for (const { where, text } of w.seen) {
      chars += text.length;
      for (const a of extractAddresses(text, { includeWeak: true })) if (forbidden.has(a)) leaks.push(`${where}: ${a.replace(/^(.).*@/, "$1***@")}`);
    }
    expect(leaks).toEqual([]);
    // The scan itself finds an address when there is one (also a de-obfuscated one).
    expect(extractAddresses(`x ${RECIPIENTS[0]} y`, { includeWeak: true })).toContain(RECIPIENTS[0]);
    expect(extractAddresses(RECIPIENTS[1]!.replace("@", " [at] "), { includeWeak: true })).toContain(RECIPIENTS[1]);
    expect(w.seen.length).toBeGreaterThan(50);
    figures.push(["texts scanned for addresses (count / characters)", `${w.seen.length} / ${chars.toLocaleString("en-US")}`]);
  });
});
