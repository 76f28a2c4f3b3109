/**
 * The approval gate's rules (docs/design.md, "The approval gate"), over a fake
 * GatePort: one valid pull request that passes, and the ways around branch
 * protection, each refused with its reason code.
 */
import { afterAll, describe, expect, it } from "vitest";
import { GateError } from "../src/errors.ts";
import { assignOrdered, assignUnordered } from "../src/gate/assign.ts";
import { evaluateGate, formatGateReport, gateStatusLine, type GateResult, type Review } from "../src/gate/index.ts";
import { applyConfigDefaults, type ConfigInput, type ResolvedConfig } from "../src/load/schema/config.ts";
import { FakeGatePort, type FakeGateData, type FakeOptions } from "./helpers/gate-fake.ts";

const HEAD = "1".repeat(40);
const MERGE = "2".repeat(40);
const BASE = "3".repeat(40);
const OLD = "4".repeat(40);
const OTHER = "5".repeat(40);
const N = 12;

function config(ordered = false): ResolvedConfig {
  const input: ConfigInput = {
    sender: { from: "Example Corp News <news@corp.example>" },
    approvals: {
      ordered,
      stages: [
        { name: "content", owners: ["@corp/newsletter-editors"] },
        { name: "privacy", owners: ["@corp/privacy-office"] },
        { name: "release", owners: ["@carol"] },
      ],
    },
  };
  return applyConfigDefaults(input);
}

function review(id: number, login: string, submittedAt: string, over: Partial<Review> = {}): Review {
  return { id, login, userType: "User", state: "APPROVED", commitId: HEAD, submittedAt, ...over };
}

/** A merged newsletter PR with three distinct owners approving the final head after the last push. */
function world(): FakeGateData {
  return {
    commitPulls: { [MERGE]: [N] },
    pulls: {
      [N]: {
        number: N,
        state: "closed",
        merged: true,
        mergeCommitSha: MERGE,
        headSha: HEAD,
        headRef: "newsletter/2024-06-01-summer",
        headRepo: "corp/news",
        baseRepo: "corp/news",
        baseRef: "main",
        baseSha: BASE,
        defaultBranch: "main",
        author: { login: "writer", type: "User" },
        mergedAt: "2024-06-01T13:00:00Z",
      },
    },
    reviews: {
      [N]: [
        review(101, "alice", "2024-06-01T11:00:00Z"),
        review(102, "bob", "2024-06-01T11:30:00Z"),
        review(103, "carol", "2024-06-01T12:00:00Z"),
      ],
    },
    commits: {
      [N]: [
        { sha: OLD, authorLogin: "writer", committerLogin: "writer" },
        { sha: HEAD, authorLogin: "writer", committerLogin: "web-flow" },
      ],
    },
    files: {
      [N]: [{ filename: "newsletters/2024-06-01-summer/newsletter.yml" }, { filename: "newsletters/2024-06-01-summer/body.md" }],
    },
    lastPush: { [N]: "2024-06-01T10:00:00Z" },
    filesAtRef: {
      [`${BASE}:.github/CODEOWNERS`]:
        "# newsletters and lists belong to the approvers\n" +
        "newsletters/ @corp/newsletter-editors @corp/privacy-office @carol\n" +
        "recipients/ @corp/privacy-office @carol\n" +
        ".github/ @carol\n",
    },
    teams: {
      "corp/newsletter-editors": { alice: "active", erin: "active" },
      "corp/privacy-office": { bob: "active" },
    },
    permissions: { alice: "write", bob: "maintain", carol: "admin", erin: "write", frank: "write", writer: "write" },
    // Merged as a merge commit after main moved on elsewhere.
    trees: { [`${HEAD}..${MERGE}`]: ["src/unrelated.ts"] },
    branchRules: {
      main: {
        requiredApprovingReviewCount: 3,
        requireCodeOwnerReview: true,
        dismissStaleReviews: true,
        requireLastPushApproval: true,
        requiredStatusChecks: ["check", "gate"],
        bypassActorsPresent: false,
        notes: [],
      },
    },
  };
}

const pr = (d: FakeGateData) => d.pulls[N]!;
const reviewsOf = (d: FakeGateData) => d.reviews[N]!;
const setReview = (d: FakeGateData, id: number, over: Partial<Review>) => {
  const list = reviewsOf(d);
  const i = list.findIndex((r) => r.id === id);
  list[i] = { ...list[i]!, ...over };
};
const dropReview = (d: FakeGateData, id: number) => {
  d.reviews[N] = reviewsOf(d).filter((r) => r.id !== id);
};

interface Run {
  result?: GateResult;
  error?: unknown;
  port: FakeGatePort;
}

async function run(d: FakeGateData, opts: { sha?: string; pr?: number; ordered?: boolean; fake?: FakeOptions } = {}): Promise<Run> {
  const port = new FakeGatePort(d, opts.fake);
  const target = opts.pr !== undefined ? { pr: opts.pr } : { sha: opts.sha ?? MERGE };
  try {
    const result = await evaluateGate({ ...target, config: config(opts.ordered), port, now: new Date("2024-06-01T13:05:00Z") });
    return { result, port };
  } catch (error) {
    return { error, port };
  }
}

/** Every code the result carries: problems and reasons of reviews that do not count. */
function codes(r: GateResult): string[] {
  return [...r.problems.map((p) => p.code), ...r.notCounted.map((n) => n.reason)];
}

const table: { scenario: string; verdict: string; reason: string }[] = [];

function record(scenario: string, out: Run, expected: string): void {
  if (out.error !== undefined) {
    const e = out.error;
    table.push({ scenario, verdict: "error (exit 2)", reason: e instanceof GateError ? `GateError:${e.kind}` : String(e) });
    return;
  }
  const r = out.result!;
  const shown = codes(r).includes(expected) ? expected : (r.problems[0]?.code ?? r.notCounted[0]?.reason ?? "-");
  table.push({ scenario, verdict: r.approved ? "APPROVED (exit 0)" : "refused (exit 1)", reason: shown });
}

afterAll(() => {
  const w1 = Math.max(...table.map((t) => t.scenario.length), 8);
  const w2 = Math.max(...table.map((t) => t.verdict.length), 7);
  const lines = [`${"scenario".padEnd(w1)} | ${"verdict".padEnd(w2)} | reason`, `${"-".repeat(w1)}-|-${"-".repeat(w2)}-|-------`];
  for (const t of table) lines.push(`${t.scenario.padEnd(w1)} | ${t.verdict.padEnd(w2)} | ${t.reason}`);
  console.log(`\nApproval gate scenarios (${table.length}):\n${lines.join("\n")}\n`);
});

describe("gate: a valid pull request", () => {
  it("passes with three distinct owners approving the final head after the last push, and reports it readably", async () => {
    const out = await run(world());
    record("valid: 3 stages, 3 distinct owners, final head, after last push", out, "-");
    expect(out.error).toBeUndefined();
    const r = out.result!;
    expect(r.problems).toEqual([]);
    expect(r.approved).toBe(true);
    expect(r.mode).toBe("merged");
    expect(r.mergeSha).toBe(MERGE);
    expect(r.stages.map((s) => [s.name, s.approval?.login, s.approval?.reviewId])).toEqual([
      ["content", "alice", 101],
      ["privacy", "bob", 102],
      ["release", "carol", 103],
    ]);
    expect(r.stages[0]!.approval).toEqual({ login: "alice", reviewId: 101, commitId: HEAD, submittedAt: "2024-06-01T11:00:00Z" });
    expect(r.notCounted).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(out.port.violations).toEqual([]);
    expect(gateStatusLine(r)).toBe("approved: 3 of 3 approvals (content @alice, privacy @bob, release @carol)");
    const report = formatGateReport(r);
    expect(report).toContain("Approval gate: pull request #12 (head 1111111, merged as 2222222), opened by @writer");
    expect(report).toContain("Result: APPROVED");
    expect(report).toMatch(/content {2}approved by @alice in review 101 on 1111111 at 2024-06-01T11:00:00Z/);
    expect(report).toMatch(/release {2}approved by @carol in review 103 on 1111111 at 2024-06-01T12:00:00Z/);
    expect(report).toContain("Last push to the head: 2024-06-01T10:00:00Z");
    console.log(`\n${report}`);
  });

  it("--pr on a merged PR checks the same rules against its merge commit", async () => {
    const out = await run(world(), { pr: N, fake: { forbid: ["pullsForCommit"] } });
    expect(out.result?.approved).toBe(true);
    expect(out.result?.mergeSha).toBe(MERGE);
    expect(out.port.violations).toEqual([]);
  });

  it("comments and pending reviews neither count nor block; logins compare case-insensitively", async () => {
    const d = world();
    reviewsOf(d).push(review(104, "dave", "2024-06-01T12:10:00Z", { state: "COMMENTED" }));
    reviewsOf(d).push(review(105, "alice", "2024-06-01T12:20:00Z", { state: "COMMENTED" }));
    reviewsOf(d).push(review(106, "bob", "", { state: "PENDING", submittedAt: null }));
    setReview(d, 103, { login: "Carol" });
    const r = (await run(d)).result!;
    expect(r.approved).toBe(true);
    expect(r.stages[2]!.approval?.login).toBe("Carol");
    expect(r.notCounted.map((n) => [n.reviewId, n.reason])).toEqual([
      [104, "comment-only"],
      [105, "comment-only"],
      [106, "pending"],
    ]);
  });

  it("a person eligible for two stages does not block another owner (bipartite matching)", async () => {
    const d = world();
    // alice owns content and privacy and approved first; frank owns content only; no bob.
    d.teams["corp/privacy-office"]!.alice = "active";
    d.teams["corp/newsletter-editors"]!.frank = "active";
    dropReview(d, 102);
    reviewsOf(d).push(review(104, "frank", "2024-06-01T11:40:00Z"));
    const out = await run(d);
    record("one owner of two stages + another owner of one (matching)", out, "-");
    const r = out.result!;
    expect(r.approved).toBe(true);
    expect(r.stages.map((s) => s.approval?.login)).toEqual(["frank", "alice", "carol"]);
  });

  it("prefers the earliest approval; a surplus approval says which stage it lost to", async () => {
    const d = world();
    reviewsOf(d).push(review(104, "erin", "2024-06-01T10:30:00Z"));
    const r = (await run(d)).result!;
    expect(r.approved).toBe(true);
    expect(r.stages[0]!.approval?.login).toBe("erin");
    expect(r.notCounted).toEqual([
      expect.objectContaining({ login: "alice", reviewId: 101, reason: "stage-already-approved", text: expect.stringContaining("content (@erin)") }),
    ]);
  });

  it("an open PR reports progress without requiring a merge", async () => {
    const d = world();
    Object.assign(pr(d), { state: "open", merged: false, mergeCommitSha: null, mergedAt: null });
    dropReview(d, 103);
    const out = await run(d, { pr: N, fake: { forbid: ["changedBetween", "pullsForCommit"] } });
    const r = out.result!;
    expect(out.port.violations).toEqual([]);
    expect(r.mode).toBe("open");
    expect(r.problems).toEqual([]);
    expect(r.approved).toBe(false);
    expect(gateStatusLine(r)).toBe("2 of 3 approvals: waiting for release");
    expect(r.stages[2]!.waiting).toBe("waiting for an approval from an owner (@carol)");
    expect(formatGateReport(r)).toContain("head 1111111, open");
  });

  it("a change request that was dismissed no longer blocks", async () => {
    const d = world();
    reviewsOf(d).push(review(104, "erin", "2024-06-01T11:50:00Z", { state: "DISMISSED" }));
    const r = (await run(d)).result!;
    expect(r.approved).toBe(true);
    expect(codes(r)).toEqual(["dismissed"]);
  });

  it("weak branch rules pass the gate but are warned about", async () => {
    const d = world();
    d.branchRules.main = {
      requiredApprovingReviewCount: 1,
      requireCodeOwnerReview: false,
      dismissStaleReviews: false,
      requireLastPushApproval: false,
      requiredStatusChecks: [],
      bypassActorsPresent: true,
      notes: [],
    };
    const r = (await run(d)).result!;
    expect(r.approved).toBe(true);
    expect(r.warnings.map((w) => w.code)).toEqual([
      "rules-approval-count",
      "rules-code-owner-review",
      "rules-dismiss-stale",
      "rules-last-push-approval",
      "rules-status-checks",
      "rules-bypass-actors",
    ]);
    const unknown = world();
    unknown.branchRules.main = { ...unknown.branchRules.main!, bypassActorsPresent: null, notes: ["branch protection needs administration read"] };
    const r2 = (await run(unknown)).result!;
    expect(r2.warnings).toEqual([{ code: "rules-unknown", text: expect.stringContaining("administration read") }]);
  });
});

/** The bypass scenarios: each must be refused with its reason. */
interface Scenario {
  name: string;
  code: string;
  setup: (d: FakeGateData) => void;
  sha?: string;
  pr?: number;
  ordered?: boolean;
  fake?: FakeOptions;
  /** Other codes the bypass legitimately brings along (everything else must be absent). */
  also?: string[];
  /** Extra checks on the result. */
  check?: (r: GateResult) => void;
}

const scenarios: Scenario[] = [
  {
    name: "two stages approved by one person",
    code: "same-person-other-stage",
    setup: (d) => {
      d.teams["corp/privacy-office"]!.alice = "active";
      dropReview(d, 102);
    },
    check: (r) => {
      expect(r.stages[0]!.approval?.login).toBe("alice");
      expect(r.stages[1]!.approval).toBeUndefined();
      expect(r.stages[1]!.waiting).toContain("@alice (counts for content)");
      expect(r.notCounted).toContainEqual(
        expect.objectContaining({ login: "alice", stage: "privacy", reason: "same-person-other-stage", text: expect.stringContaining("same person as stage content") }),
      );
    },
  },
  {
    name: "self-approval by the PR author",
    code: "pr-author",
    setup: (d) => Object.assign(pr(d), { author: { login: "Bob", type: "User" } }),
  },
  {
    name: "approver committed to the PR",
    code: "commit-author",
    setup: (d) => {
      d.commits[N]!.push({ sha: OTHER, authorLogin: "writer", committerLogin: "bob" });
    },
  },
  {
    name: "approver pushed to the PR under another git identity (repository activity names them)",
    code: "pusher",
    setup: (d) => {
      d.pushers = { [N]: ["dana", "Bob"] };
    },
  },
  {
    name: "PR also changes the tool",
    code: "not-content-only",
    setup: (d) => {
      d.files[N]!.push({ filename: "src/gate/evaluate.ts", status: "modified" });
    },
    check: (r) => expect(r.problems[0]!.text).toContain("src/gate/evaluate.ts"),
  },
  {
    name: "PR changes two newsletter folders",
    code: "not-content-only",
    setup: (d) => {
      d.files[N]!.push({ filename: "newsletters/2024-07-01-other/body.md", status: "added" });
    },
  },
  {
    name: "merge commit brings a change the PR's files do not show (against its first parent)",
    code: "not-content-only",
    setup: (d) => {
      d.commitChanges = { [MERGE]: { sha: MERGE, parents: [BASE, HEAD], paths: ["package-lock.json", ...d.files[N]!.map((f) => f.filename)] } };
    },
    check: (r) => expect(r.problems[0]!.text).toContain(`against its first parent ${BASE.slice(0, 7)}`),
  },
  {
    name: "rebase merge of several commits: an earlier one changed the tool (the PR's files are read too)",
    code: "not-content-only",
    setup: (d) => {
      d.commits[N]!.unshift({ sha: OLD, authorLogin: "dana", committerLogin: "dana" });
      d.files[N]!.push({ filename: "src/gate/evaluate.ts", status: "modified" });
      // The last rebased commit, on top of the first rebased one: only the newsletter.
      d.commitChanges = { [MERGE]: { sha: MERGE, parents: [OTHER], paths: d.files[N]!.filter((f) => f.filename.startsWith("newsletters/")).map((f) => f.filename) } };
    },
    check: (r) => expect(r.problems[0]!.text).toContain("src/gate/evaluate.ts"),
  },
  {
    name: "bot approval",
    code: "bot",
    setup: (d) => {
      dropReview(d, 102);
      d.teams["corp/privacy-office"]!["release-helper[bot]"] = "active";
      reviewsOf(d).push(review(104, "release-helper[bot]", "2024-06-01T11:30:00Z", { userType: "Bot" }));
    },
  },
  {
    name: "bot login with a User account type",
    code: "bot",
    setup: (d) => setReview(d, 102, { login: "sneaky[bot]" }),
  },
  {
    name: "approval on an older commit",
    code: "older-commit",
    setup: (d) => setReview(d, 102, { commitId: OLD }),
  },
  {
    name: "approval carried forward (commit_id = head) but before the last push",
    code: "before-last-push",
    setup: (d) => setReview(d, 102, { submittedAt: "2024-06-01T09:30:00Z" }),
  },
  {
    name: "approval followed by changes-requested",
    code: "cancelled-by-later-review",
    also: ["changes-requested", "owner-changes-requested"],
    setup: (d) => reviewsOf(d).push(review(104, "bob", "2024-06-01T11:45:00Z", { state: "CHANGES_REQUESTED" })),
    check: (r) => expect(r.problems.map((p) => p.code)).toContain("owner-changes-requested"),
  },
  {
    name: "dismissed approval",
    code: "dismissed",
    setup: (d) => setReview(d, 102, { state: "DISMISSED" }),
  },
  {
    name: "approval followed by a dismissed review",
    code: "cancelled-by-later-review",
    also: ["dismissed"],
    setup: (d) => reviewsOf(d).push(review(104, "bob", "2024-06-01T11:45:00Z", { state: "DISMISSED" })),
  },
  {
    name: "approval by a non-owner",
    code: "not-owner",
    setup: (d) => {
      delete d.teams["corp/privacy-office"]!.bob;
    },
  },
  {
    name: "team member whose membership is pending",
    code: "team-membership-pending",
    setup: (d) => {
      d.teams["corp/privacy-office"]!.bob = "pending";
    },
  },
  {
    name: "owner who lost write access",
    code: "no-write-permission",
    setup: (d) => {
      d.permissions.bob = "read";
    },
  },
  {
    name: "another owner's standing changes-requested",
    code: "owner-changes-requested",
    also: ["changes-requested"],
    setup: (d) => reviewsOf(d).push(review(104, "erin", "2024-06-01T11:50:00Z", { state: "CHANGES_REQUESTED" })),
    check: (r) => {
      expect(r.stages.every((s) => s.approval !== undefined)).toBe(true);
      expect(r.problems[0]!.text).toContain("@erin, a code owner (@corp/newsletter-editors) of newsletters/");
    },
  },
  {
    name: "PR from a fork",
    code: "fork",
    setup: (d) => Object.assign(pr(d), { headRepo: "mallory/news" }),
  },
  {
    name: "PR whose head repository was deleted",
    code: "fork",
    setup: (d) => Object.assign(pr(d), { headRepo: null }),
  },
  {
    name: "PR that edits CODEOWNERS",
    code: "codeowners-changed",
    setup: (d) => d.files[N]!.push({ filename: ".github/CODEOWNERS" }),
  },
  {
    name: "PR that edits the gate config",
    code: "gate-config-changed",
    setup: (d) => d.files[N]!.push({ filename: ".github/newsletter.yml" }),
  },
  {
    name: "PR that renames a workflow away from .github/",
    code: "github-dir-changed",
    also: ["not-content-only"],
    setup: (d) => d.files[N]!.push({ filename: "old/send.yml", previousFilename: ".github/workflows/send.yml", status: "renamed" }),
  },
  {
    name: "merged tree differs from reviewed head (admin merge + extra commit)",
    code: "tree-differs",
    setup: (d) => {
      d.trees[`${HEAD}..${MERGE}`] = ["recipients/customers.csv", "src/unrelated.ts"];
    },
    check: (r) => expect(r.problems[0]!.text).toContain("recipients/customers.csv"),
  },
  {
    name: "direct push with no PR",
    code: "no-pr",
    setup: (d) => {
      d.commitPulls[MERGE] = [];
    },
    fake: { forbid: ["pull", "reviews", "activeTeamMembers", "teamMembership", "permissions"] },
    check: (r) => {
      expect(r.mode).toBe("none");
      expect(r.pr).toBeNull();
    },
  },
  {
    name: "two PRs for one commit",
    code: "multiple-prs",
    setup: (d) => {
      d.commitPulls[MERGE] = [N, 13];
    },
    fake: { forbid: ["pull"] },
  },
  {
    name: "commit of an open PR (not merged)",
    code: "not-merged",
    sha: HEAD,
    setup: (d) => {
      d.commitPulls[HEAD] = [N];
      Object.assign(pr(d), { state: "open", merged: false, mergeCommitSha: null, mergedAt: null });
    },
    fake: { forbid: ["changedBetween"] },
  },
  {
    name: "commit that is not the PR's merge commit",
    code: "not-merge-commit",
    sha: OTHER,
    setup: (d) => {
      d.commitPulls[OTHER] = [N];
      d.trees[`${HEAD}..${OTHER}`] = [];
    },
  },
  {
    name: "PR into a branch other than the default",
    code: "not-default-branch",
    setup: (d) => {
      Object.assign(pr(d), { baseRef: "release" });
      d.branchRules.release = d.branchRules.main!;
    },
  },
  {
    name: "PR closed without merging (--pr)",
    code: "pr-closed",
    pr: N,
    setup: (d) => Object.assign(pr(d), { merged: false, mergeCommitSha: null, mergedAt: null }),
  },
  {
    name: "commit linked to no GitHub account",
    code: "commit-unattributed",
    setup: (d) => d.commits[N]!.push({ sha: OTHER, authorLogin: null, committerLogin: null }),
  },
  {
    name: "CODEOWNERS on the base with a line GitHub skips",
    code: "codeowners-invalid",
    setup: (d) => {
      d.filesAtRef[`${BASE}:.github/CODEOWNERS`] += "recipients/[a-z]*.csv @carol\n";
    },
  },
  {
    name: "ordered stages approved out of order",
    code: "out-of-order",
    ordered: true,
    setup: (d) => setReview(d, 103, { submittedAt: "2024-06-01T10:30:00Z" }),
    check: (r) => {
      expect(r.stages.map((s) => s.approval?.login)).toEqual(["alice", "bob", undefined]);
      expect(r.notCounted).toContainEqual(expect.objectContaining({ login: "carol", stage: "release", reason: "out-of-order" }));
    },
  },
];

describe("gate: bypass scenarios are refused with their reason", () => {
  for (const s of scenarios) {
    it(`${s.name} -> ${s.code}`, async () => {
      const d = world();
      s.setup(d);
      const out = await run(d, {
        ...(s.pr !== undefined ? { pr: s.pr } : { sha: s.sha ?? MERGE }),
        ...(s.ordered !== undefined ? { ordered: s.ordered } : {}),
        ...(s.fake ? { fake: s.fake } : {}),
      });
      record(s.name, out, s.code);
      expect(out.error).toBeUndefined();
      expect(out.port.violations).toEqual([]);
      const r = out.result!;
      expect(r.approved).toBe(false);
      // Refused for this reason and no other: the world differs from a passing PR only by the bypass.
      expect(new Set(codes(r))).toEqual(new Set([s.code, ...(s.also ?? [])]));
      // Every reason has a readable text, and the report shows the code.
      for (const n of r.notCounted) expect(n.text.length).toBeGreaterThan(5);
      expect(formatGateReport(r)).toContain(s.code);
      s.check?.(r);
    });
  }

  it("the same world without the bypass passes (every scenario differs from a passing PR only by its bypass)", async () => {
    expect((await run(world())).result?.approved).toBe(true);
  });
});

describe("gate: failures fail closed with GateError", () => {
  const cases: { name: string; fake: FakeOptions; kind: string; operation?: string; table: string }[] = [
    {
      name: "truncated review list",
      fake: { fail: { reviews: new GateError("truncated", "the review list stops at 3000") } },
      kind: "truncated",
      operation: "reviews(12)",
      table: "truncated review list (port throws)",
    },
    {
      name: "truncated commit list (over 250 commits)",
      fake: { fail: { commits: new GateError("truncated", "pull request has 251 commits; GitHub lists 250") } },
      kind: "truncated",
      operation: "commits(12)",
      table: "truncated commit list (port throws)",
    },
    {
      name: "API error from the adapter",
      fake: { fail: { permissions: new GateError("api", "GET /repos/corp/news/collaborators: 502 Bad Gateway") } },
      kind: "api",
      operation: 'permissions(["alice", "bob", "carol"])',
      table: "API error (502 on permissions)",
    },
    {
      name: "untyped error from the adapter",
      fake: { fail: { branchRules: new Error("socket hang up") } },
      kind: "port",
      operation: 'branchRules("main")',
      table: "untyped adapter error (socket hang up)",
    },
    {
      name: "GitHub client error carrying its own kind",
      fake: { fail: { commitChange: Object.assign(new Error("GET /repos/{owner}/{repo}/commits/{ref}: 100 files listed"), { kind: "truncated" }) } },
      kind: "truncated",
      operation: `commitChange("${MERGE}")`,
      table: "client error kind=truncated on the merge commit's files",
    },
    {
      name: "team the token cannot see",
      fake: { fail: { activeTeamMembers: new GateError("not-found", "team corp/newsletter-editors is not visible to this token") } },
      kind: "not-found",
      table: "team not visible to the token (404)",
    },
  ];
  for (const c of cases) {
    it(`${c.name} -> GateError(${c.kind})`, async () => {
      const out = await run(world(), { fake: c.fake });
      record(c.table, out, `GateError:${c.kind}`);
      expect(out.result).toBeUndefined();
      expect(out.error).toBeInstanceOf(GateError);
      const e = out.error as GateError;
      expect(e.kind).toBe(c.kind);
      expect(e.code).toBe("gate-error");
      expect(e.exitCode).toBe(2);
      if (c.operation) expect(e.operation).toBe(c.operation);
    });
  }

  it("a malformed server time is not trusted", async () => {
    const d = world();
    d.lastPush[N] = "yesterday";
    const out = await run(d);
    record("malformed last-push time", out, "GateError:invalid-response");
    expect((out.error as GateError).kind).toBe("invalid-response");
  });

  it("bad arguments are a usage error", async () => {
    const port = new FakeGatePort(world());
    await expect(evaluateGate({ config: config(), port })).rejects.toMatchObject({ code: "usage" });
    await expect(evaluateGate({ sha: "abc", config: config(), port })).rejects.toMatchObject({ code: "usage" });
    await expect(evaluateGate({ sha: MERGE, pr: N, config: config(), port })).rejects.toMatchObject({ code: "usage" });
    expect(port.calls).toEqual([]);
  });
});

describe("gate: stage assignment", () => {
  const c = (time: number, ...stages: number[]) => ({ time, stages: new Set(stages) });

  it("finds a maximum matching, earliest approvals first", () => {
    // Person 0 owns stages 0 and 1; person 1 owns stage 0 only.
    expect(assignUnordered(2, [c(1, 0, 1), c(2, 0)])).toEqual([1, 0]);
    // Both own both: earliest goes to the first stage.
    expect(assignUnordered(2, [c(1, 0, 1), c(2, 0, 1)])).toEqual([0, 1]);
    // One person for two stages: only one counts.
    expect(assignUnordered(3, [c(1, 0, 1), c(2, 2)])).toEqual([0, undefined, 1]);
  });

  it("ordered stages take the longest prefix at increasing times", () => {
    expect(assignOrdered(3, [c(1, 2), c(2, 0), c(3, 1)])).toEqual([1, 2, undefined]);
    // The early owner of both stage 0 and 1 must go to stage 0 for the order to hold.
    expect(assignOrdered(2, [c(1, 0, 1), c(2, 1)])).toEqual([0, 1]);
    expect(assignOrdered(3, [c(1, 0), c(2, 1), c(3, 2)])).toEqual([0, 1, 2]);
    expect(assignOrdered(2, [c(5, 0), c(5, 1)])).toEqual([0, undefined]);
  });
});

describe("gate: questions to GitHub are few and batched", () => {
  /** The sample configuration: each team-owned stage also names a user. */
  function sampleConfig(ordered = false): ResolvedConfig {
    return applyConfigDefaults({
      sender: { from: "Example Corp News <news@corp.example>" },
      approvals: {
        ordered,
        stages: [
          { name: "content", owners: ["@corp/newsletter-editors", "@alice"] },
          { name: "privacy", owners: ["@corp/privacy-office", "@bob"] },
          { name: "release", owners: ["@carol"] },
        ],
      },
    });
  }

  it("approvers named as users: no team question, one permissions question for all", async () => {
    for (const ordered of [false, true]) {
      const port = new FakeGatePort(world(), { forbid: ["activeTeamMembers", "teamMembership"] });
      const r = await evaluateGate({ sha: MERGE, config: sampleConfig(ordered), port });
      expect(r.approved).toBe(true);
      expect(port.violations).toEqual([]);
      expect(port.calls.filter((c) => c.startsWith("permissions"))).toEqual(['permissions(["alice","bob","carol"])']);
    }
  });

  it("an approver known only through a team: every membership that matters, one question per team", async () => {
    const d = world();
    reviewsOf(d).push(review(104, "erin", "2024-06-01T12:30:00Z"));
    const port = new FakeGatePort(d, { forbid: ["teamMembership"] });
    const r = await evaluateGate({ sha: MERGE, config: sampleConfig(), port });
    expect(r.approved).toBe(true);
    // erin (editors) is a surplus approval: her reason needs her memberships.
    expect(r.notCounted).toEqual([expect.objectContaining({ login: "erin", reason: "stage-already-approved" })]);
    expect(port.calls.filter((c) => c.startsWith("activeTeamMembers"))).toEqual([
      'activeTeamMembers("corp", "newsletter-editors", ["bob","carol","erin"])',
      'activeTeamMembers("corp", "privacy-office", ["alice","carol","erin"])',
    ]);
    expect(port.calls.filter((c) => c.startsWith("permissions"))).toEqual(['permissions(["alice","bob","carol","erin"])']);
  });

  it("a user-named owner without write access: the full check still finds the team owner who counts", async () => {
    const d = world();
    d.permissions.bob = "read";
    d.teams["corp/privacy-office"]!.erin = "active";
    reviewsOf(d).push(review(104, "erin", "2024-06-01T12:30:00Z"));
    const r = await evaluateGate({ sha: MERGE, config: sampleConfig(), port: new FakeGatePort(d) });
    expect(r.approved).toBe(true);
    expect(r.stages.map((s) => s.approval?.login)).toEqual(["alice", "erin", "carol"]);
    expect(codes(r)).toContain("no-write-permission");
  });
});
