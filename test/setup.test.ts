/**
 * `newsletter setup`: the repository ruleset that makes
 * branch rules the gate's first fence.
 *
 * Shown: the pure core (the desired ruleset from the configuration and the
 * workflows; the field-by-field plan that never loosens and removes bypass
 * actors); the required checks resolved against the real workflow files (so
 * a check the workflows do not produce cannot be required); the command end
 * to end against the GitHub fake (every response validated against GitHub's
 * OpenAPI description, every request body against the request schema):
 * created / updated / up to date, with an up-to-date ruleset proven to make
 * no write (the fake refuses every write), `--dry-run` printing the request
 * and writing nothing, errors on exit 2 with no stack and no token.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { UnreadableInputError } from "../src/errors.ts";
import { REQUIRED_CHECKS, resolveRequiredChecks, WORKFLOW_DIR } from "../src/setup/checks.ts";
import { approvalsFor, desiredRuleset, GITHUB_ACTIONS_APP_ID, stateRuleset, planRuleset, RULESET_NAME, type ExistingRuleset, type RulesetBody } from "../src/setup/ruleset.ts";
import { startGitHubFake, strongPullRequestRule, type FakeRuleset, type GitHubFake } from "./helpers/github-fake.ts";
import { makeRepo, PROJECT, runCli, type CliResult } from "./helpers/repo.ts";

const TOKEN = "ghp_SetupAdm1nT0ken0123456789abcdefghijkl";
const REPO = "corp/newsletters";

/** The check contexts the project's workflows produce, as the ruleset requires them. */
const CONTEXTS = ["typecheck and tests", "actionlint", "check", "approval gate", "newsletter/approvals", "newsletter/digest"];
/** Without NEWSLETTER_APP_ID every check is pinned to GitHub Actions. */
const CHECKS = CONTEXTS.map((context) => ({ context, integration_id: GITHUB_ACTIONS_APP_ID }));

function projectWorkflows(): Map<string, string> {
  const dir = path.join(PROJECT, WORKFLOW_DIR);
  return new Map(readdirSync(dir).filter((f) => f.endsWith(".yml")).map((f) => [f, readFileSync(path.join(dir, f), "utf8")]));
}

/** The ruleset as GitHub would return it after creating `body` (bypass actors visible). */
function asRead(body: RulesetBody, id = 42): ExistingRuleset {
  return {
    id,
    name: body.name,
    target: body.target,
    enforcement: body.enforcement,
    refName: body.conditions.ref_name,
    bypassActors: body.bypass_actors,
    rules: structuredClone(body.rules) as ExistingRuleset["rules"],
  };
}

describe("setup core: the desired ruleset", () => {
  it("one approval per stage, at least 3 (GitHub allows at most 10)", () => {
    expect([1, 2, 3, 4, 7, 10, 12].map(approvalsFor)).toEqual([3, 3, 3, 4, 7, 10, 10]);
  });

  it("targets the default branch, active, no bypass; deletion, non-fast-forward, reviews and checks", () => {
    expect(desiredRuleset({ stageCount: 3, checks: CHECKS })).toEqual({
      name: RULESET_NAME,
      target: "branch",
      enforcement: "active",
      conditions: { ref_name: { include: ["~DEFAULT_BRANCH"], exclude: [] } },
      bypass_actors: [],
      rules: [
        { type: "deletion" },
        { type: "non_fast_forward" },
        strongPullRequestRule(),
        {
          type: "required_status_checks",
          parameters: { strict_required_status_checks_policy: false, required_status_checks: CHECKS },
        },
      ],
    });
  });
});

describe("setup core: the plan, field by field", () => {
  const desired = desiredRuleset({ stageCount: 3, checks: CHECKS });

  it("no ruleset: create it", () => {
    const plan = planRuleset(null, desired);
    expect(plan.action).toBe("create");
    expect(plan.action === "create" && plan.body).toEqual(desired);
    expect(plan.changes.map((c) => c.text)).toEqual(['created ruleset "newsletter"']);
  });

  it("the same ruleset: nothing to do", () => {
    expect(planRuleset(asRead(desired), desired)).toEqual({ action: "none", id: 42, changes: [], notes: [] });
  });

  it("a weaker ruleset: every weaker field named with its old and new value; bypass actors removed", () => {
    const existing: ExistingRuleset = {
      id: 7,
      name: RULESET_NAME,
      target: "branch",
      enforcement: "evaluate",
      refName: { include: ["refs/heads/main"], exclude: ["refs/heads/release/*"] },
      bypassActors: [
        { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
        { actor_id: 31, actor_type: "Team", bypass_mode: "pull_request" },
      ],
      rules: [
        { type: "required_signatures" },
        {
          type: "pull_request",
          parameters: {
            required_approving_review_count: 1,
            require_code_owner_review: false,
            dismiss_stale_reviews_on_push: true,
            require_last_push_approval: false,
            required_review_thread_resolution: false,
            allowed_merge_methods: ["merge", "squash"],
          },
        },
        {
          type: "required_status_checks",
          parameters: { strict_required_status_checks_policy: true, required_status_checks: [{ context: "check", integration_id: 15368 }, { context: "lint" }] },
        },
      ],
    };
    const plan = planRuleset(existing, desired);
    expect(plan.action).toBe("update");
    expect(plan.changes.map((c) => c.text)).toEqual([
      "enforcement evaluate → active",
      'conditions.ref_name.include ["refs/heads/main"] → ["~DEFAULT_BRANCH"]',
      'conditions.ref_name.exclude ["refs/heads/release/*"] → []',
      "bypass_actors: removed RepositoryRole 5 (admin), always; Team 31, on pull requests",
      "pull_request.required_approving_review_count 1 → 3",
      "pull_request.require_code_owner_review false → true",
      "pull_request.require_last_push_approval false → true",
      'required_status_checks: added "typecheck and tests", "actionlint", "approval gate", "newsletter/approvals", "newsletter/digest"',
      "rules: added deletion",
      "rules: added non_fast_forward",
    ]);
    expect(plan.notes).toEqual(["kept rules setup does not manage: required_signatures"]);
    if (plan.action !== "update") throw new Error("unreachable");
    expect(plan.id).toBe(7);
    expect(plan.body.bypass_actors).toEqual([]);
    expect(plan.body.enforcement).toBe("active");
    // Never loosened: the stricter "strict" policy, the extra check (with its app), the merge methods
    // and the rule setup does not manage stay as they were.
    expect(plan.body.rules).toEqual([
      { type: "required_signatures" },
      {
        type: "pull_request",
        parameters: {
          required_approving_review_count: 3,
          require_code_owner_review: true,
          dismiss_stale_reviews_on_push: true,
          require_last_push_approval: true,
          required_review_thread_resolution: false,
          allowed_merge_methods: ["merge", "squash"],
        },
      },
      {
        type: "required_status_checks",
        parameters: {
          strict_required_status_checks_policy: true,
          required_status_checks: [{ context: "check", integration_id: 15368 }, { context: "lint" }, ...CHECKS.filter((c) => c.context !== "check")],
        },
      },
      { type: "deletion" },
      { type: "non_fast_forward" },
    ]);
    // Applying the plan's body reaches the fixed point.
    expect(planRuleset(asRead(plan.body, 7), desired).action).toBe("none");
  });

  it("stricter settings are kept, not lowered: 5 approvals stay 5, thread resolution stays on", () => {
    const strict = structuredClone(desired) as { -readonly [K in keyof RulesetBody]: RulesetBody[K] };
    strict.rules = desired.rules.map((r) =>
      r.type === "pull_request" ? { ...r, parameters: { ...r.parameters, required_approving_review_count: 5, required_review_thread_resolution: true } } : r,
    );
    expect(planRuleset(asRead(strict), desired).action).toBe("none");
  });

  it("bypass actors the token cannot see count as a change: the write that clears them is made", () => {
    const plan = planRuleset({ ...asRead(desired), bypassActors: null }, desired);
    expect(plan.action).toBe("update");
    expect(plan.changes.map((c) => c.text)).toEqual(["bypass_actors: not visible to this token (it needs repository administration) → none"]);
  });
});

describe("setup core: the required checks are what the workflows produce", () => {
  it("resolves every listed check against the project's workflow files", () => {
    const r = resolveRequiredChecks(projectWorkflows());
    expect(r.checks.map((c) => c.context)).toEqual(CONTEXTS);
    expect(r.checks.map((c) => `${c.source.workflow}: ${c.source.kind === "job" ? `job ${c.source.job}` : `status ${c.source.context}`} -> ${c.context}`)).toEqual([
      "ci.yml: job test -> typecheck and tests",
      "ci.yml: job actionlint -> actionlint",
      "newsletter-pr.yml: job check -> check",
      "newsletter-gate.yml: job gate -> approval gate",
      "newsletter-gate.yml: status newsletter/approvals -> newsletter/approvals",
      "newsletter-pr.yml: status newsletter/digest -> newsletter/digest",
    ]);
    // Every workflow of a required check runs on every pull request: no note.
    expect(r.notes).toEqual([]);
    // A paths filter would be said, not hidden.
    const filtered = projectWorkflows();
    filtered.set("newsletter-pr.yml", filtered.get("newsletter-pr.yml")!.replace(/^ {4}types: \[opened, synchronize, reopened, ready_for_review\]$/m, '$&\n    paths: ["newsletters/**"]'));
    expect(resolveRequiredChecks(filtered).notes).toEqual([expect.stringMatching(/^\.github\/workflows\/newsletter-pr\.yml runs only on pull requests matching its paths filter/)]);
    expect(REQUIRED_CHECKS).toHaveLength(6);
  });

  it("a check the workflows no longer produce is an error, not a required check that never reports", () => {
    const wf = projectWorkflows();
    const cases: Array<[string, (m: Map<string, string>) => void, RegExp]> = [
      ["workflow deleted", (m) => m.delete("ci.yml"), /ci\.yml: missing/],
      ["job renamed away", (m) => m.set("newsletter-gate.yml", m.get("newsletter-gate.yml")!.replace(/^ {2}gate:$/m, "  approvals:")), /has no job "gate"/],
      ["status context changed", (m) => m.set("newsletter-pr.yml", m.get("newsletter-pr.yml")!.replace("context=newsletter/digest", "context=newsletter/digest-v2")), /no step sets the commit status "newsletter\/digest"/],
      [
        "matrix job",
        (m) => m.set("ci.yml", m.get("ci.yml")!.replace("    name: typecheck and tests\n", "    name: typecheck and tests\n    strategy:\n      matrix:\n        node: [20, 22]\n")),
        /job "test" has a matrix/,
      ],
      ["computed name", (m) => m.set("ci.yml", m.get("ci.yml")!.replace("name: actionlint\n", "name: lint ${{ github.ref }}\n")), /job "actionlint" has no fixed name/],
      ["no pull_request trigger", (m) => m.set("ci.yml", m.get("ci.yml")!.replace("  pull_request:\n", "")), /ci\.yml: has no pull_request trigger/],
    ];
    for (const [name, edit, message] of cases) {
      const m = new Map(wf);
      edit(m);
      let error: unknown;
      try {
        resolveRequiredChecks(m);
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(UnreadableInputError);
      expect((error as Error).message, name).toMatch(message);
    }
  });
});

// ------------------------------------------------------------------ end to end over HTTP

let fake: GitHubFake | undefined;
afterEach(async () => {
  const f = fake;
  fake = undefined;
  // close() throws when a response (or a ruleset request body) drifted from GitHub's OpenAPI description.
  await f?.close();
});

const table: { scenario: string; exit: number; requests: number; first: string }[] = [];
afterAll(() => {
  const w = Math.max(...table.map((t) => t.scenario.length), 8);
  console.log(`\nsetup end to end (${table.length} runs):\n${table.map((t) => `${t.scenario.padEnd(w)} | exit ${t.exit} | ${String(t.requests).padStart(2)} req | ${t.first}`).join("\n")}\n`);
});

/** The state branch's ruleset, already in place in every world (its own tests are in test/fence.test.ts). */
const STATE_ID = 90;
/** Requests of every run besides the default branch's ruleset: the state ruleset, the repository, two environments with their policies. */
const EXTRA = 6;

async function start(): Promise<GitHubFake> {
  fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
  fake.state.tokenPermissions = { admin: true, maintain: true, push: true, triage: true, pull: true };
  const state = stateRuleset("newsletter-state");
  fake.state.rulesets.push({
    id: STATE_ID,
    name: state.name,
    enforcement: "active",
    include: [...state.conditions.ref_name.include],
    rules: state.rules.map((x) => structuredClone(x) as FakeRuleset["rules"][number]),
    bypassActors: state.bypass_actors.map((a) => ({ actor_id: a.actor_id, actor_type: a.actor_type, bypass_mode: a.bypass_mode ?? "always" })),
  });
  fake.state.environments = { "newsletter-approval": { policy: ["main"] }, "newsletter-production": { policy: ["main"] } };
  return fake;
}

/** The lines setup prints after the default branch's ruleset, in the world of start(). */
const TAIL = [
  `Ruleset "newsletter-state" (id ${STATE_ID}) on the state branch newsletter-state (bypass: deploy keys only): up to date, no write request made`,
  "ok: environment newsletter-approval: only main may deploy",
  "ok: environment newsletter-production: only main may deploy",
  "note: NEWSLETTER_APP_ID is not set: the newsletter/* statuses are pinned to GitHub Actions, which any branch's workflow runs as; set up the GitHub App (README, step 3) and run setup again with NEWSLETTER_APP_ID so only the App's statuses count",
];

/** Makes every ruleset write fail loudly: "this call must not happen". */
function refuseWrites(f: GitHubFake): void {
  for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
    f.fail(/\/rulesets/, 418, { method, times: Infinity, body: { message: `this call must not happen: ${method}`, documentation_url: "https://docs.github.com/rest", status: "418" } });
  }
}

async function setup(f: GitHubFake, args: string[], scenario: string, opts: { root?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult & { requests: string[] }> {
  const from = f.requests.length;
  // The tests' own repository (the sample and the project's workflows) unless one is given: never the live one.
  const root = opts.root ?? makeRepo({}, { workflows: true });
  const r = await runCli(["--root", root, "setup", ...args], {
    env: { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: f.url, ...opts.env },
  });
  // The default branch's ruleset only; the state ruleset and the environments have their own tests.
  const other = (q: GitHubFake["requests"][number]) =>
    q.route === "/repos/{owner}/{repo}" ||
    (q.route ?? "").includes("/environments/") ||
    q.path.endsWith(`/rulesets/${STATE_ID}`) ||
    (q.method === "POST" && (q.body as { name?: string } | undefined)?.name === "newsletter-state");
  const requests = f.requests.slice(from).filter((q) => !other(q)).map((q) => `${q.method} ${q.route ?? q.path}${q.status >= 400 ? ` -> ${q.status}` : ""}`);
  table.push({ scenario, exit: r.code, requests: requests.length, first: (r.stdout.split("\n")[0] || r.stderr.trim()).slice(0, 110) });
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(text).not.toContain(TOKEN);
  }
  return { ...r, requests };
}

function ours(f: GitHubFake): FakeRuleset {
  const rs = f.state.rulesets.find((r) => r.name === RULESET_NAME);
  if (!rs) throw new Error("no newsletter ruleset in the fake");
  return rs;
}

const LIST = "GET /repos/{owner}/{repo}/rulesets";
const GET = "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}";
const POST = "POST /repos/{owner}/{repo}/rulesets";
const PUT = "PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}";

describe("setup end to end: created, up to date, updated", () => {
  it("no ruleset yet: created with one POST (2 requests), then up to date with no write at all", async () => {
    const f = await start();
    f.state.rulesets.push({ id: 3, name: "tags", enforcement: "active", include: ["refs/tags/v*"], rules: [{ type: "deletion" }], bypassActors: [] });
    const r = await setup(f, [], "missing ruleset -> created");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.requests).toEqual([LIST, POST]);
    expect(f.requests.find((q) => q.route === "/repos/{owner}/{repo}/rulesets" && q.method === "GET")?.query).toMatchObject({ includes_parents: "false", per_page: "100" });
    const id = ours(f).id;
    expect(r.stdout).toBe(
      [
        `Ruleset "newsletter" (id ${id}) on the default branch of corp/newsletters: created`,
        '  created ruleset "newsletter"',
        `Required status checks: ${CONTEXTS.map((c) => `${JSON.stringify(c)} (app ${GITHUB_ACTIONS_APP_ID})`).join(", ")}`,
        ...TAIL,
        `(${2 + EXTRA} GitHub API requests)`,
        "",
      ].join("\n"),
    );
    // What GitHub received is the desired ruleset, and it validated against the request schema (the fake checks).
    expect(f.requests.find((q) => q.method === "POST")?.body).toEqual(desiredRuleset({ stageCount: 3, checks: CHECKS }));
    expect(ours(f)).toMatchObject({ enforcement: "active", include: ["~DEFAULT_BRANCH"], exclude: [], bypassActors: [] });

    // Again: up to date. Every write is refused by the fake, so a write would fail the run.
    refuseWrites(f);
    const again = await setup(f, [], "up to date -> no write");
    expect(again.code).toBe(0);
    expect(again.stdout.split("\n")[0]).toBe(`Ruleset "newsletter" (id ${id}) on the default branch of corp/newsletters: up to date, no write request made`);
    expect(again.stdout).toContain(`(${2 + EXTRA} GitHub API requests)`);
    expect(again.requests).toEqual([LIST, GET]);
    expect(f.requests.filter((q) => q.method !== "GET")).toHaveLength(1); // the POST of the first run only
  });

  it("an outdated ruleset with bypass actors: one PUT names every change; the next run changes nothing", async () => {
    const f = await start();
    f.state.rulesets.push({
      id: 42,
      name: RULESET_NAME,
      enforcement: "active",
      include: ["~DEFAULT_BRANCH"],
      rules: [
        { type: "deletion" },
        {
          type: "pull_request",
          parameters: {
            required_approving_review_count: 1,
            require_code_owner_review: true,
            dismiss_stale_reviews_on_push: false,
            require_last_push_approval: false,
            required_review_thread_resolution: false,
          },
        },
        { type: "required_status_checks", parameters: { strict_required_status_checks_policy: false, required_status_checks: [{ context: "check" }] } },
      ],
      bypassActors: [
        { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
        { actor_id: null, actor_type: "DeployKey", bypass_mode: "always" },
      ],
    });
    const r = await setup(f, [], "outdated ruleset -> updated");
    expect(r.code).toBe(0);
    expect(r.requests).toEqual([LIST, GET, PUT]);
    expect(r.stdout.split("\n").slice(0, 8)).toEqual([
      'Ruleset "newsletter" (id 42) on the default branch of corp/newsletters: updated',
      "  bypass_actors: removed RepositoryRole 5 (admin), always; DeployKey (deploy keys), always",
      "  pull_request.required_approving_review_count 1 → 3",
      "  pull_request.dismiss_stale_reviews_on_push false → true",
      "  pull_request.require_last_push_approval false → true",
      // An unpinned check is pinned to the app that reports it (a status of that name from anyone else no longer counts).
      '  required_status_checks["check"].integration_id (unset) → 15368',
      '  required_status_checks: added "typecheck and tests", "actionlint", "approval gate", "newsletter/approvals", "newsletter/digest"',
      "  rules: added non_fast_forward",
    ]);
    expect(r.stdout).toContain(`(${3 + EXTRA} GitHub API requests)`);
    expect(ours(f).bypassActors).toEqual([]);
    expect(ours(f).rules.find((x) => x.type === "pull_request")?.parameters).toMatchObject({ required_approving_review_count: 3, dismiss_stale_reviews_on_push: true, require_last_push_approval: true });

    refuseWrites(f);
    const again = await setup(f, [], "after the update -> up to date");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("up to date, no write request made");
    expect(again.requests).toEqual([LIST, GET]);
  });

  it("more stages than three: one approval each", async () => {
    const f = await start();
    const root = makeRepo();
    cpSync(path.join(PROJECT, WORKFLOW_DIR), path.join(root, WORKFLOW_DIR), { recursive: true });
    const config = readFileSync(path.join(root, ".github/newsletter.yml"), "utf8").replace(
      '    - { name: release, owners: ["@carol"] }\n',
      '    - { name: legal, owners: ["@dave"] }\n    - { name: release, owners: ["@carol"] }\n',
    );
    writeFileSync(path.join(root, ".github/newsletter.yml"), config);
    const r = await setup(f, ["--format", "json"], "4 stages -> 4 approvals", { root });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { action: string; request: { method: string; body: RulesetBody } };
    expect(out.action).toBe("created");
    expect(out.request.method).toBe("POST");
    expect(out.request.body.rules.find((x) => x.type === "pull_request")?.parameters?.["required_approving_review_count"]).toBe(4);
  });
});

describe("setup --dry-run: prints the request, writes nothing", () => {
  it("outdated: the PUT with its body; missing: the POST; the fake refuses every write", async () => {
    const f = await start();
    refuseWrites(f);
    const r1 = await setup(f, ["--dry-run"], "missing ruleset --dry-run");
    expect(r1.code).toBe(0);
    expect(r1.requests).toEqual([LIST]);
    expect(r1.stdout).toContain('Ruleset "newsletter" on the default branch of corp/newsletters: would be created (dry run: nothing written)');
    const printed = r1.stdout.split("Request (not sent):\n")[1]!;
    expect(printed.split("\n")[0]).toBe("POST /repos/corp/newsletters/rulesets");
    const body = JSON.parse(printed.slice(printed.indexOf("\n") + 1, printed.indexOf("\n\n")));
    expect(body).toEqual(desiredRuleset({ stageCount: 3, checks: CHECKS }));
    expect(f.state.rulesets.map((x) => x.name)).toEqual(["newsletter-state"]);

    f.state.rulesets.push({
      id: 9,
      name: RULESET_NAME,
      enforcement: "evaluate",
      include: ["~DEFAULT_BRANCH"],
      rules: desiredRuleset({ stageCount: 3, checks: CHECKS }).rules.map((x) => structuredClone(x) as FakeRuleset["rules"][number]),
      bypassActors: [{ actor_id: 77, actor_type: "Integration", bypass_mode: "always" }],
    });
    const before = structuredClone(f.state.rulesets);
    const r2 = await setup(f, ["--dry-run", "--format", "json"], "outdated ruleset --dry-run --format json");
    expect(r2.code).toBe(0);
    expect(r2.requests).toEqual([LIST, GET]);
    const out = JSON.parse(r2.stdout) as { action: string; dryRun: boolean; ruleset: { id: number }; changes: { text: string }[]; request: { method: string; path: string; body: RulesetBody }; requests: number };
    expect(out).toMatchObject({ action: "updated", dryRun: true, ruleset: { id: 9 }, requests: 2 + EXTRA });
    expect(out.changes.map((c) => c.text)).toEqual(["enforcement evaluate → active", "bypass_actors: removed Integration 77, always"]);
    expect(out.request.method).toBe("PUT");
    expect(out.request.path).toBe("/repos/corp/newsletters/rulesets/9");
    expect(out.request.body.bypass_actors).toEqual([]);
    expect(f.state.rulesets).toEqual(before);
    expect(f.requests.some((q) => q.method !== "GET")).toBe(false);

    // The refusal is real: the same run without --dry-run attempts the PUT and fails on it.
    const r3 = await setup(f, [], "outdated, writes refused (the trick bites)");
    expect(r3.code).toBe(2);
    expect(r3.requests).toEqual([LIST, GET, `${PUT} -> 418`]);
    expect(r3.stderr).toContain("this call must not happen: PUT");
    expect(f.state.rulesets).toEqual(before);
  });
});

describe("setup: errors exit 2 with a message (no stack, no token)", () => {
  it("no GITHUB_TOKEN, an argument, a bad --format, --dry-run elsewhere: usage", async () => {
    const f = await start();
    const noToken = await setup(f, [], "no GITHUB_TOKEN", { env: { GITHUB_TOKEN: undefined } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/^newsletter: GITHUB_TOKEN is not set: setup needs a token that may administer the repository/);
    expect(noToken.requests).toEqual([]);
    for (const args of [["setup", "main"], ["setup", "--format", "sarif"], ["gate", "--pr", "1", "--dry-run"], ["setup", "--sha", "a".repeat(40)]]) {
      const r = await runCli(args, { env: {} });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
    }
  });

  it("a token that may not administer the repository: the 403 is named, with what is needed", async () => {
    const f = await start();
    f.fail("/repos/{owner}/{repo}/rulesets", 403, {
      method: "POST",
      body: { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest", status: "403" },
    });
    const r = await setup(f, [], "POST 403 (no administration permission)");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^newsletter: setup could not apply the ruleset: GitHub API POST \/repos\/corp\/newsletters\/rulesets: HTTP 403 \(Resource not accessible by integration\) \[x-github-request-id FAKE:[0-9A-F:]+\]\. GITHUB_TOKEN may not do this on GITHUB_REPOSITORY \(corp\/newsletters\): rulesets need a token that may administer the repository/);
    expect(r.stderr).not.toMatch(/createRuleset|\{owner\}/);
  });

  it("a configuration or workflow that cannot be read", async () => {
    const f = await start();
    const root = makeRepo();
    const r1 = await setup(f, [], "workflows missing", { root });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toMatch(/^newsletter: setup: \.github\/workflows\/ci\.yml: missing; the ruleset requires its checks\n$/);
    expect(r1.requests).toEqual([]);
    mkdirSync(path.join(root, WORKFLOW_DIR), { recursive: true });
    cpSync(path.join(PROJECT, WORKFLOW_DIR), path.join(root, WORKFLOW_DIR), { recursive: true });
    writeFileSync(path.join(root, ".github/newsletter.yml"), "sender: {}\n");
    const r2 = await setup(f, [], "invalid configuration", { root });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^newsletter: setup: \.github\/newsletter\.yml is invalid/);
  });

  it("the fake holds request bodies to GitHub's request schema (a bad body is a 422 and drift)", async () => {
    const f = await start();
    const res = await fetch(`${f.url}/repos/corp/newsletters/rulesets`, {
      method: "POST",
      headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "x", enforcement: "on", rules: [{ type: "pull_request", parameters: { required_approving_review_count: 11 } }], bypass: [] }),
    });
    expect(res.status).toBe(422);
    expect(f.drift).toHaveLength(1);
    expect(f.drift[0]!.errors.join("\n")).toMatch(/property bypass is not in GitHub's request schema/);
    expect(f.drift[0]!.errors.join("\n")).toMatch(/\/enforcement/);
    expect(f.drift[0]!.errors.join("\n")).toMatch(/\/rules\/0/);
    f.drift.length = 0;
  });
});
