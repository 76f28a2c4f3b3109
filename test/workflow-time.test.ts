/**
 * The workflow side of time and shards (docs/design.md, "Scheduling and
 * continuation"): newsletter-schedule.yml dispatches what `due` lists;
 * newsletter-send.yml skips a newsletter scheduled for later, builds its
 * matrix from `sending.shards`, gives each send a time budget, and its
 * `continue` job dispatches the same newsletter with resume when the ledger
 * says a budget stopped it. The step scripts run as Actions runs them (bash
 * -eo pipefail) with `gh` (and, where said, `npm`/`node`) replaced by fakes
 * on PATH; the continuation is also run against the real CLI and ledger.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT, runCli } from "./helpers/repo.ts";
import { fastConfig, SAMPLE_DIR, sendRepo } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

interface Step {
  name?: string;
  id?: string;
  if?: string;
  run?: string;
  env?: Record<string, string>;
  uses?: string;
  with?: Record<string, unknown>;
  "continue-on-error"?: boolean;
}
interface Job {
  if?: string;
  needs?: string | string[];
  strategy?: { "fail-fast"?: boolean; matrix?: Record<string, unknown> };
  permissions?: Record<string, string>;
  environment?: string;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const workflow = (file: string) => parse(readFileSync(path.join(PROJECT, ".github/workflows", file), "utf8")) as Workflow;
const send = workflow("newsletter-send.yml");
const schedule = workflow("newsletter-schedule.yml");
const step = (wf: Workflow, job: string, id: string): Step => {
  const s = wf.jobs[job]!.steps.find((x) => x.id === id);
  if (!s) throw new Error(`${job}: no step ${id}`);
  return s;
};

interface StepRun {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  calls: string[];
}

/** One step's script with fakes on PATH (every call logged), the runner's files, and only the env the step declares. */
function runStep(s: Step, o: { env: Record<string, string>; cwd?: string; fakes: Record<string, string> }): StepRun {
  for (const k of Object.keys(o.env)) expect(Object.keys(s.env ?? {}), `${s.name}: ${k} is not declared in env:`).toContain(k);
  const tmp = mkdtempSync(path.join(tmpdir(), "nl-wft-"));
  const bin = path.join(tmp, "bin");
  mkdirSync(bin);
  const calls = path.join(tmp, "calls");
  writeFileSync(calls, "");
  for (const [name, body] of Object.entries(o.fakes)) {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/usr/bin/env bash\nprintf '%s\\n' "${name} $*" >> ${JSON.stringify(calls)}\n${body}\n`);
    chmodSync(file, 0o755);
  }
  const output = path.join(tmp, "output");
  writeFileSync(output, "");
  const script = path.join(tmp, "step.sh");
  writeFileSync(script, s.run!);
  const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
    cwd: o.cwd ?? tmp,
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env["PATH"] ?? ""}`, HOME: tmp, RUNNER_TEMP: tmp, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: path.join(tmp, "summary"), ...o.env },
  });
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(output, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs, calls: readFileSync(calls, "utf8").split("\n").filter(Boolean) };
}

/** A fake `npm` that prints this JSON. */
const printing = (json: unknown) => `cat <<'JSON'\n${JSON.stringify(json)}\nJSON`;
/** A fake `npm` that runs the real CLI for `npm run -s newsletter -- …`, in the step's folder. */
const realCli = `if [[ "$1 $2 $3 $4" == "run -s newsletter --" ]]; then shift 4; exec node ${JSON.stringify(path.join(PROJECT, "bin/newsletter.js"))} --root "$PWD" "$@"; fi\nexit 97`;

const DIR = "newsletters/2026-12-01-winter-update";

describe("newsletter-schedule.yml", () => {
  const due = step(schedule, "due", "due");

  it("runs every 15 minutes, holds no mail secret, may only read and dispatch", () => {
    expect(schedule.on["schedule"]).toEqual([{ cron: "*/15 * * * *" }]);
    const job = schedule.jobs["due"]!;
    expect(job.permissions).toEqual({ contents: "read", actions: "write" });
    expect(job.environment).toBeUndefined();
    expect(JSON.stringify(job)).not.toMatch(/secrets\./);
  });

  it.each([
    ["two due", [{ dir: DIR, id: "x", send_after: "2026-12-08T10:00:00+09:00" }, { dir: "newsletters/2026-12-02-b", id: "b", send_after: "2026-12-08T09:00:00Z" }], 2],
    ["none due", [], 0],
  ] as Array<[string, Array<{ dir: string; id?: string; send_after?: string }>, number]>)("%s: dispatches newsletter-send.yml once for each", (_name, list, n) => {
    const r = runStep(due, {
      env: { GH_TOKEN: "t", NEWSLETTER_STATE_DIR: ".newsletter-state", DEFAULT_BRANCH: "main" },
      fakes: { npm: printing({ now: "2026-12-08T01:00:00.000Z", due: list, scheduled: [], matrix: { include: [] } }), gh: "exit 0" },
    });
    expect(r.status).toBe(0);
    const gh = r.calls.filter((c) => c.startsWith("gh "));
    expect(gh).toEqual(list.map((d) => `gh workflow run newsletter-send.yml --ref main -f newsletter=${d.dir}`));
    expect(r.outputs["started"]).toBe(String(n));
  });
});

describe("newsletter-send.yml: schedule and shards", () => {
  const plan = step(send, "resolve", "plan");
  const env = { NEWSLETTER_DIR: DIR };

  it.each([
    ["scheduled for later, three shards", { state: "scheduled", send_after: "2026-12-08T10:00:00+09:00", matrix: ["1/3", "2/3", "3/3"] }, 0, { scheduled: "true", matrix: '["1/3","2/3","3/3"]' }],
    ["due, one job", { state: "not started", send_after: null, matrix: ["all"] }, 0, { scheduled: "false", matrix: '["all"]' }],
    ["no matrix (an older tool)", { state: "not started" }, 1, {}],
  ] as Array<[string, unknown, number, Record<string, string>]>)("%s", (_name, status, code, outputs) => {
    const r = runStep(plan, { env, fakes: { npm: printing(status) } });
    expect(r.status).toBe(code);
    expect(r.outputs).toEqual(outputs);
  });

  it("the send job is one job per shard of the matrix, skipped while scheduled; the continue job runs after all of them, always", () => {
    const job = send.jobs["send"]!;
    expect(job.if).toBe("needs.resolve.outputs.dir != '' && needs.resolve.outputs.scheduled != 'true'");
    expect(job.strategy).toEqual({ "fail-fast": false, matrix: { shard: "${{ fromJSON(needs.resolve.outputs.matrix || '[\"all\"]') }}" } });
    const audit = job.steps.find((s) => s.name === "Audit record")!;
    expect(audit.env!["NEWSLETTER_SHARD"]).toBe("${{ matrix.shard }}");
    const cont = send.jobs["continue"]!;
    expect(cont.needs).toEqual(["resolve", "send"]);
    expect(cont.if).toMatch(/^always\(\) && /);
    // The object store's OIDC role (lists by reference, the suppression store) trusts environments only.
    expect(cont.permissions).toEqual({ contents: "read", actions: "write", "id-token": "write" });
    expect(cont.environment).toBe("newsletter-approval");
    expect(JSON.stringify(cont)).not.toMatch(/secrets\./);
  });

  it.each([
    ["2/3", ["--time-budget", "19800", "--shard", "2/3"]],
    ["all", ["--time-budget", "19800"]],
  ])("the Send step for shard %s: --require-approval, the digest, the time budget and the shard", (shard, tail) => {
    const s = step(send, "send", "send");
    const r = runStep(s, {
      env: {
        GITHUB_TOKEN: "t", NEWSLETTER_SMTP_URL: "smtp://relay.example:587", NEWSLETTER_SECRET: "s".repeat(20), NEWSLETTER_DKIM_PRIVATE_KEY: "",
        NEWSLETTER_DKIM_SELECTOR: "", NEWSLETTER_DKIM_DOMAIN: "", NODE_OPTIONS: "", NEWSLETTER_DIR: DIR, EXPECT_DIGEST: "d".repeat(64),
        SEND_SHA: "a".repeat(40), SHARD: shard, TIME_BUDGET: "19800",
      },
      fakes: { node: "exit 75" },
    });
    expect(r.status).toBe(75); // exec: the tool's own exit code is the step's
    expect(r.calls).toEqual([`node bin/newsletter.js send ${DIR} --require-approval --expect-digest ${"d".repeat(64)} ${tail.join(" ")}`]);
  });
});

describe("newsletter-send.yml: a resume applies the unsubscribes of now", () => {
  const s = step(send, "send", "suppressions");
  const git = (cwd: string, ...args: string[]) =>
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd, encoding: "utf8" }).stdout.trim();

  it("only on a dispatch with resume", () => {
    expect(s.if).toBe("github.event_name == 'workflow_dispatch' && inputs.resume");
  });

  it.each([
    ["the default branch has newer suppressions: they replace the merged commit's", true],
    ["the default branch has none: the merged commit's stay", false],
  ])("%s", (_name, present) => {
    const repo = mkdtempSync(path.join(tmpdir(), "nl-wft-git-"));
    git(repo, "init", "-q");
    mkdirSync(path.join(repo, "recipients"));
    writeFileSync(path.join(repo, "recipients/suppressions.csv"), "email\nold@example.com\n");
    git(repo, "add", "-A");
    git(repo, "commit", "-q", "-m", "merged");
    if (present) writeFileSync(path.join(repo, "recipients/suppressions.csv"), "email\nold@example.com\nnew@example.com\n");
    else git(repo, "rm", "-q", "recipients/suppressions.csv");
    git(repo, "commit", "-q", "-a", "-m", "later");
    const tip = git(repo, "rev-parse", "HEAD");
    git(repo, "checkout", "-q", "HEAD~1", "--", "recipients"); // what take-content.sh leaves: the merged commit's data
    const r = runStep(s, { cwd: repo, env: { TOOL_SHA: tip }, fakes: {} });
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(repo, "recipients/suppressions.csv"), "utf8")).toBe(
      present ? "email\nold@example.com\nnew@example.com\n" : "email\nold@example.com\n",
    );
  });
});

describe("newsletter-send.yml: the continuation, against the real CLI and ledger", () => {
  let server: TestSmtp | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });
  const cont = step(send, "continue", "continuation");
  const run = (root: string) =>
    runStep(cont, {
      cwd: root,
      env: { GH_TOKEN: "t", NEWSLETTER_DIR: SAMPLE_DIR, NEWSLETTER_STATE_DIR: ".newsletter-state", DEFAULT_BRANCH: "main" },
      fakes: { npm: realCli, gh: "exit 0" },
    });

  it("run 1 stops by its budget (exit 75) → dispatch with resume; run 2 completes → no dispatch; never started → no dispatch", async () => {
    server = await startTestSmtp();
    // 1,500 rows at 250/s take 6 s: a 3 s budget stops run 1 in the middle even on a loaded machine,
    // where the checks alone can take a second before the first message.
    const root = sendRepo(1500, { ".github/newsletter.yml": fastConfig().replace("rate_per_second: 10000", "rate_per_second: 250") });
    const env = { NEWSLETTER_SMTP_URL: server.url, NEWSLETTER_SECRET: "test-secret-0123456789abcdef" };

    const before = run(root);
    expect(before.status).toBe(0);
    expect(before.calls.filter((c) => c.startsWith("gh "))).toEqual([]);
    expect(before.outputs["dispatched"]).toBe("false");

    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--time-budget", "3"], { env });
    expect(first.code).toBe(75);
    const after1 = run(root);
    expect(after1.status).toBe(0);
    expect(after1.calls.filter((c) => c.startsWith("gh "))).toEqual([`gh workflow run newsletter-send.yml --ref main -f newsletter=${SAMPLE_DIR} -f resume=true`]);
    expect(after1.outputs["dispatched"]).toBe("true");

    const second = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env });
    expect(second.code).toBe(0);
    const after2 = run(root);
    expect(after2.calls.filter((c) => c.startsWith("gh "))).toEqual([]);
    expect(after2.stdout).toContain("is complete");
    const counts = server.countsByRecipient();
    expect(counts.size).toBe(1499);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  }, 120_000);
});
