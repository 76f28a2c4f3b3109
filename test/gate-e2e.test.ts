/**
 * The approval gate end to end (docs/design.md, "The approval gate"): the real CLI
 * (`gate --sha` / `gate --pr`, in-process through runCli) against the local
 * GitHub REST fake, whose every response is validated against GitHub's
 * OpenAPI description. A realistic repository: the sample configuration and
 * CODEOWNERS on the base commit, a newsletter pull request written by a
 * non-owner, its pushes in the repository activity, three owners approving
 * the final head after the last push, a merge commit.
 *
 * Shown: the valid PR passes with a readable report; an open PR shows its
 * progress; bypasses through real HTTP are refused (exit 1) with their reason
 * code; API failures, 404s and truncated lists fail closed (exit 2) with a
 * message and no stack trace; the request budget of a typical run (≤ 10);
 * `--publish-status` sets the commit status `newsletter/approvals`; who can
 * bypass the branch rules, read only with a token that may administer the
 * repository (one more request; GITHUB_TOKEN cannot see them, so it is not
 * asked); after `setup`, no branch-rule warning is left.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { clip, STATUS_CONTEXT, STATUS_DESCRIPTION_MAX } from "../src/cli/commands/gate.ts";
import { newsletterWorld, startGitHubFake, type FakeCommit, type FakePull, type FakeReview, type GitHubFake } from "./helpers/github-fake.ts";
import { makeRepo, runCli, sampleText, SAMPLE_DIR, SAMPLE_ID, type CliResult } from "./helpers/repo.ts";

const TOKEN = "ghs_E2eGateT0ken0123456789abcdefghijklmnop";
const REPO = "corp/newsletters";
const BRANCH = `newsletter/${SAMPLE_ID}`;
const N = 7;

const ROUTE = {
  pull: "/repos/{owner}/{repo}/pulls/{pull_number}",
  reviews: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
  activity: "/repos/{owner}/{repo}/activity",
  contents: "/repos/{owner}/{repo}/contents/{path}",
  statuses: "/repos/{owner}/{repo}/statuses/{sha}",
} as const;

let fake: GitHubFake | undefined;
afterEach(async () => {
  const f = fake;
  fake = undefined;
  // close() throws when any response drifted from GitHub's OpenAPI description.
  await f?.close();
});

/** Scenario → verdict, printed at the end. */
const table: { scenario: string; exit: number; shown: string; requests: number }[] = [];
afterAll(() => {
  const w = Math.max(...table.map((t) => t.scenario.length), 8);
  const lines = table.map((t) => `${t.scenario.padEnd(w)} | exit ${t.exit} | ${String(t.requests).padStart(3)} req | ${t.shown}`);
  console.log(`\nApproval gate end to end, over HTTP (${table.length} runs):\n${lines.join("\n")}\n`);
});

function env(f: GitHubFake, extra: Record<string, string> = {}): Record<string, string> {
  return { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: f.url, ...extra };
}

async function gate(f: GitHubFake, args: string[], scenario: string, shown?: (r: CliResult) => string, extraEnv: Record<string, string> = {}): Promise<CliResult & { requests: string[] }> {
  const from = f.requests.length;
  const r = await runCli(["gate", ...args], { env: env(f, extraEnv) });
  const requests = f.requests.slice(from).map((q) => `${q.method} ${q.route ?? q.path}${q.status >= 400 ? ` -> ${q.status}` : ""}`);
  const status = /^(.*)$/m.exec(r.stdout.split("\n").find((l) => l.startsWith("Result:")) ?? r.stderr.trim())?.[1] ?? "";
  table.push({ scenario, exit: r.code, shown: shown ? shown(r) : status.slice(0, 120), requests: requests.length });
  // Never a stack trace, never the token, on any stream.
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(text).not.toContain(TOKEN);
  }
  return { ...r, requests };
}

interface World {
  base: FakeCommit;
  head: FakeCommit;
  merge: FakeCommit | undefined;
  pr: FakePull;
}

interface WorldOptions {
  /** Default: merged as a merge commit. */
  open?: boolean;
  /** Extra files the head commit changes (a PR that also edits CODEOWNERS, say). */
  headExtra?: Record<string, string>;
  /** Who authored the last commit (default dana, the PR author). */
  headAuthor?: string;
  /** Extra files in the merge commit that the reviewed head does not have. */
  mergeExtra?: Record<string, string>;
  reviews?: FakeReview[];
}

const T = {
  base: "2026-11-20T09:00:00Z",
  push1: "2026-11-24T09:00:00Z",
  push2: "2026-11-24T09:30:00Z",
  push3: "2026-11-24T10:00:00Z",
  alice: "2026-11-24T11:00:00Z",
  bob: "2026-11-24T11:30:00Z",
  carol: "2026-11-24T12:00:00Z",
  merged: "2026-11-24T13:00:00Z",
};

/**
 * corp/newsletters: main holds the configuration, CODEOWNERS and the lists; dana (no owner of
 * anything) writes the newsletter on a branch in three pushes; alice (content), bob (privacy) and
 * carol (release) approve the final head after its last push; carol merges with a merge commit.
 */
function newsletterRepo(f: GitHubFake, o: WorldOptions = {}): World {
  const nl = (name: string) => `${SAMPLE_DIR}/${name}`;
  const base = f.commit({
    files: {
      "README.md": "# Newsletters\n\nEach newsletter is a pull request.\n",
      ".github/newsletter.yml": sampleText(".github/newsletter.yml"),
      ".github/CODEOWNERS": sampleText(".github/CODEOWNERS"),
      "recipients/customers.csv": sampleText("recipients/customers.csv"),
      "recipients/suppressions.csv": sampleText("recipients/suppressions.csv"),
    },
    message: "Newsletter repository",
    author: "carol",
    date: T.base,
  });
  f.push("main", base.sha, { at: T.base, actor: "carol" });

  const body = sampleText(nl("body.md"));
  const c1 = f.commit({ parent: base.sha, files: { [nl("newsletter.yml")]: sampleText(nl("newsletter.yml")) }, message: "Winter update: metadata", author: "dana" });
  f.push(BRANCH, c1.sha, { at: T.push1, actor: "dana" });
  const c2 = f.commit({ parent: c1.sha, files: { [nl("body.md")]: body.replace("winter", "wintr") }, message: "Winter update: body", author: "dana" });
  f.push(BRANCH, c2.sha, { at: T.push2, actor: "dana" });
  const head = f.commit({
    parent: c2.sha,
    files: { [nl("body.md")]: body, ...o.headExtra },
    message: "Fix a typo",
    author: o.headAuthor ?? "dana",
  });
  f.push(BRANCH, head.sha, { at: T.push3, actor: o.headAuthor ?? "dana" });

  let merge: FakeCommit | undefined;
  if (!o.open) {
    // "Create a merge commit": first parent the base branch, second the pull request's head.
    merge = f.commit({ parent: base.sha, files: { ...head.tree, ...o.mergeExtra }, message: `Merge pull request #${N} from ${REPO.split("/")[0]}/${BRANCH}`, author: "carol", committer: "web-flow" });
    merge.parents.push(head.sha);
    f.push("main", merge.sha, { at: T.merged, actor: "carol" });
  }

  const reviews: FakeReview[] = o.reviews ?? [
    { id: 9001, user: "bob", state: "COMMENTED", commitId: c2.sha, submittedAt: "2026-11-24T09:40:00Z", body: "typo in the first paragraph" },
    { id: 9002, user: "alice", state: "APPROVED", commitId: head.sha, submittedAt: T.alice },
    { id: 9003, user: "bob", state: "APPROVED", commitId: head.sha, submittedAt: T.bob },
    ...(o.open ? [] : [{ id: 9004, user: "carol", state: "APPROVED" as const, commitId: head.sha, submittedAt: T.carol }]),
  ];
  const pr = f.pull({
    number: N,
    title: "Winter update",
    user: "dana",
    state: o.open ? "open" : "closed",
    merged: !o.open,
    mergeCommitSha: merge?.sha ?? null,
    mergedAt: o.open ? null : T.merged,
    ...(o.open ? {} : { mergedBy: "carol" }),
    head: { ref: BRANCH, sha: head.sha },
    base: { ref: "main", sha: base.sha },
    commits: [c1.sha, c2.sha, head.sha],
    reviews,
    createdAt: "2026-11-24T09:01:00Z",
  });

  newsletterWorld(f, {
    contexts: ["check", STATUS_CONTEXT],
    collaborators: { alice: "write", bob: "write", carol: "admin", dana: "write", dave: "write", erin: "write" },
    extra: { "newsletter-editors": { dave: { role: "member", state: "pending" } }, "privacy-office": { erin: { role: "member", state: "active" } } },
  });
  return { base, head, merge, pr };
}

async function start(): Promise<GitHubFake> {
  fake = await startGitHubFake({ owner: "corp", repo: "newsletters", token: TOKEN });
  return fake;
}

const short = (sha: string) => sha.slice(0, 7);

describe("gate end to end: the valid pull request", () => {
  it("gate --sha MERGE passes with a readable report, in at most 10 requests", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    const r = await gate(f, ["--sha", w.merge!.sha], "valid PR, gate --sha MERGE");
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Approval gate: pull request #${N} (head ${short(w.head.sha)}, merged as ${short(w.merge!.sha)}), opened by @dana`);
    expect(r.stdout).toContain("Result: APPROVED - approved: 3 of 3 approvals (content @alice, privacy @bob, release @carol)");
    expect(r.stdout).toContain(`Last push to the head: ${T.push3}`);
    expect(r.stdout).toMatch(new RegExp(`content {2}approved by @alice in review 9002 on ${short(w.head.sha)} at ${T.alice}`));
    expect(r.stdout).toMatch(new RegExp(`privacy {2}approved by @bob in review 9003 on ${short(w.head.sha)} at ${T.bob}`));
    expect(r.stdout).toMatch(new RegExp(`release {2}approved by @carol in review 9004 on ${short(w.head.sha)} at ${T.carol}`));
    expect(r.stdout).toContain("@bob review 9001: a comment, not an approval [comment-only]");
    // The only warning: ruleset bypass actors are not in "Get rules for a branch" (not read, not guessed).
    expect(r.stdout).toContain('[rules-unknown] branch rules for main: could not read bypass actors (REST "Get rules for a branch" does not list bypass actors; check that ruleset 1 allows no bypass)');

    // The request budget: "The request count for a typical PR (≤ 100 reviews) is ≤ 10."
    console.log(`\ngate --sha: ${r.requests.length} requests\n  ${r.requests.join("\n  ")}\n\n${r.stdout}`);
    expect(r.stdout).toContain(`(${r.requests.length} GitHub API requests)`);
    expect(r.requests.length).toBeLessThanOrEqual(10);
    expect(r.requests).toEqual([
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
      "GET /repos/{owner}/{repo}/contents/{path}", // .github/newsletter.yml at the base
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
      "GET /repos/{owner}/{repo}/commits/{ref}", // the merge commit against its first parent (content only)
      "GET /repos/{owner}/{repo}/activity", // the last push and every pusher
      "GET /repos/{owner}/{repo}/rules/branches/{branch}",
      "GET /repos/{owner}/{repo}/contents/{path}", // .github/CODEOWNERS at the base
      "GET /repos/{owner}/{repo}/compare/{basehead}",
      "GET /repos/{owner}/{repo}/collaborators",
    ]);
    // Calls that must not happen in a typical run.
    for (const route of [
      ROUTE.pull, // pullsForCommit's pull-request-simple is the pull request
      "/repos/{owner}/{repo}/pulls/{pull_number}/files", // the merge commit's change stands for them
      "/orgs/{org}/teams/{team_slug}/members", // the approvers are named as users
      "/orgs/{org}/teams/{team_slug}/memberships/{username}",
      "/orgs/{org}/teams/{team_slug}",
      "/repos/{owner}/{repo}/collaborators/{username}/permission", // one list for every approver
      "/repos/{owner}/{repo}/rulesets/{ruleset_id}",
      "/repos/{owner}/{repo}/branches/{branch}/protection", // a ruleset requires reviews
      "/repos/{owner}/{repo}/git/trees/{tree_sha}", // the compare showed the trees
    ]) {
      expect(f.count(route), route).toBe(0);
    }
    const contents = f.requests.filter((q) => q.route === ROUTE.contents).map((q) => `${decodeURIComponent(q.path.split("/contents/")[1] ?? "")}@${q.query["ref"]?.slice(0, 7)}`);
    expect(contents).toEqual([`.github/newsletter.yml@${short(w.base.sha)}`, `.github/CODEOWNERS@${short(w.base.sha)}`]);
    expect(f.requests.find((q) => q.route === "/repos/{owner}/{repo}/collaborators")?.query["affiliation"]).toBe("all");
    // The token went to GitHub, with the API version.
    expect(f.requests.every((q) => q.authorization === `token ${TOKEN}` && q.apiVersion === "2022-11-28")).toBe(true);
  });

  it("gate --pr N on the merged PR: the same verdict; --format json carries it", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    const r = await gate(f, ["--pr", String(N), "--format", "json"], "valid PR, gate --pr N --format json");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      approved: boolean;
      mode: string;
      mergeSha: string;
      stages: { name: string; approval: { login: string; reviewId: number; commitId: string; submittedAt: string } }[];
      requests: number;
      status: string;
    };
    expect(out.approved).toBe(true);
    expect(out.mode).toBe("merged");
    expect(out.mergeSha).toBe(w.merge!.sha);
    expect(out.stages.map((s) => [s.name, s.approval.login, s.approval.reviewId, s.approval.commitId, s.approval.submittedAt])).toEqual([
      ["content", "alice", 9002, w.head.sha, T.alice],
      ["privacy", "bob", 9003, w.head.sha, T.bob],
      ["release", "carol", 9004, w.head.sha, T.carol],
    ]);
    expect(out.requests).toBe(r.requests.length);
    expect(out.requests).toBeLessThanOrEqual(10);
    expect(f.count(ROUTE.pull)).toBe(1);
    expect(f.count("/repos/{owner}/{repo}/commits/{commit_sha}/pulls")).toBe(0);
  });

  it("approvers who own their stage only through a team: one member list per team", async () => {
    const f = await start();
    const w = newsletterRepo(f, {
      reviews: [],
    });
    w.pr.reviews.push(
      { id: 9102, user: "erin", state: "APPROVED", commitId: w.head.sha, submittedAt: T.alice },
      { id: 9104, user: "carol", state: "APPROVED", commitId: w.head.sha, submittedAt: T.carol },
    );
    f.state.teams[0]!.members["frank"] = { role: "member", state: "active" };
    f.state.collaborators["frank"] = "write";
    w.pr.reviews.push({ id: 9103, user: "frank", state: "APPROVED", commitId: w.head.sha, submittedAt: T.bob });
    const r = await gate(f, ["--sha", w.merge!.sha], "team-only approvers (2 teams consulted)");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("approved: 3 of 3 approvals (content @frank, privacy @erin, release @carol)");
    console.log(`\ngate --sha with team-only approvers: ${r.requests.length} requests\n  ${r.requests.join("\n  ")}`);
    expect(f.count("/orgs/{org}/teams/{team_slug}/members")).toBe(2);
    expect(f.count("/orgs/{org}/teams/{team_slug}/memberships/{username}")).toBe(0);
    expect(r.requests.length).toBe(12);
  });
});

describe("gate end to end: an open pull request shows its progress", () => {
  it("two of three approvals: exit 1, '2 of 3 approvals: waiting for release'", async () => {
    const f = await start();
    const w = newsletterRepo(f, { open: true });
    const r = await gate(f, ["--pr", String(N)], "open PR, 2 of 3 approvals");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Approval gate: pull request #${N} (head ${short(w.head.sha)}, open), opened by @dana`);
    expect(r.stdout).toContain("Result: NOT APPROVED - 2 of 3 approvals: waiting for release");
    expect(r.stdout).toContain("release  waiting for an approval from an owner (@carol)");
    expect(r.stdout).not.toContain("Problems");
    expect(f.count("/repos/{owner}/{repo}/compare/{basehead}")).toBe(0);
  });
});

interface Bypass {
  name: string;
  code: string;
  world?: WorldOptions;
  setup?: (f: GitHubFake, w: World) => void;
}

const bypasses: Bypass[] = [
  {
    name: "approval before the last push (commit_id = head, carried forward)",
    code: "before-last-push",
    setup: (f, w) => {
      // After the approvals: a force push of other content, then the approved head pushed back.
      const other = f.commit({ parent: w.head.parents[0]!, files: { [`${SAMPLE_DIR}/body.md`]: "Something else entirely.\n" }, author: "dana" });
      f.push(BRANCH, other.sha, { at: "2026-11-24T12:20:00Z", actor: "dana", force: true });
      f.push(BRANCH, w.head.sha, { at: "2026-11-24T12:40:00Z", actor: "dana", force: true });
    },
  },
  {
    name: "team membership pending (an invitation is not a membership)",
    code: "team-membership-pending",
    setup: (_f, w) => {
      const alice = w.pr.reviews.find((r) => r.user === "alice")!;
      alice.user = "dave";
    },
  },
  {
    name: "owner lost write access since approving",
    code: "no-write-permission",
    setup: (f) => {
      f.state.collaborators["bob"] = "read";
    },
  },
  {
    name: "PR edits CODEOWNERS",
    code: "codeowners-changed",
    world: { headExtra: { ".github/CODEOWNERS": "* @dana\n" } },
  },
  {
    name: "PR from a fork",
    code: "fork",
    setup: (_f, w) => {
      w.pr.head.repo = "mallory/newsletters";
    },
  },
  {
    name: "merged tree differs from the reviewed head",
    code: "tree-differs",
    world: { mergeExtra: { "recipients/customers.csv": "email,first_name\nsomeone@example.net,Someone\n" } },
  },
  {
    name: "an approver committed to the PR",
    code: "commit-author",
    world: { headAuthor: "bob" },
  },
];

describe("gate end to end: bypasses over real HTTP are refused with their reason (exit 1)", () => {
  for (const b of bypasses) {
    it(`${b.name} -> [${b.code}]`, async () => {
      const f = await start();
      const w = newsletterRepo(f, b.world);
      b.setup?.(f, w);
      const r = await gate(f, ["--sha", w.merge!.sha], `bypass: ${b.name}`, (x) => (x.stdout.includes(`[${b.code}]`) ? `[${b.code}]` : "MISSING"));
      expect(r.stderr).toBe("");
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("Result: NOT APPROVED");
      expect(r.stdout).toContain(`[${b.code}]`);
    });
  }
});

describe("gate end to end: failures fail closed (exit 2) with a clear message", () => {
  it("a 5xx on one route, after the retries", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    // GitHub may say when to retry; "0" keeps the test fast (the backoff is the client's).
    f.fail(ROUTE.activity, 502, { times: Infinity, headers: { "retry-after": "0" } });
    const r = await gate(f, ["--sha", w.merge!.sha], "API 502 on the activity route");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    // For people: the request as sent (not a route template), what to do, no internal operation name.
    expect(r.stderr).toMatch(/^newsletter: the gate could not decide, so it refuses \(fail closed\): GitHub API GET \/repos\/corp\/newsletters\/activity: HTTP 502 \(Server Error\) \[x-github-request-id FAKE:[0-9A-F:]+\]\. GitHub failed, also on retrying: run it again later/);
    expect(r.stderr).not.toMatch(/lastPushAt|\{owner\}/);
    expect(f.count(ROUTE.activity)).toBe(4); // the first try and 3 retries
    // Nothing is asked after the failure.
    expect(r.requests.at(-1)).toBe("GET /repos/{owner}/{repo}/activity -> 502");
  });

  it("a 404 where an answer is required", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.fail(ROUTE.reviews, 404);
    const r = await gate(f, ["--sha", w.merge!.sha], "API 404 on the reviews route");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^newsletter: the gate could not decide, so it refuses \(fail closed\): GitHub API GET \/repos\/corp\/newsletters\/pulls\/7\/reviews: HTTP 404 \(Not Found\)/);
    expect(r.stderr).toContain("Check that GITHUB_REPOSITORY (corp/newsletters) names the repository of the pull request");
    expect(r.stderr).not.toMatch(/reviews\(7\)|\{owner\}/);
    expect(f.count(ROUTE.reviews)).toBe(1); // a 404 is not retried
  });

  it("a pull request that does not exist", async () => {
    const f = await start();
    newsletterRepo(f);
    const r = await gate(f, ["--pr", "99"], "gate --pr 99 (no such PR)");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^newsletter: the gate could not decide, so it refuses \(fail closed\): GitHub API GET \/repos\/corp\/newsletters\/pulls\/99: HTTP 404/);
  });

  it("a truncated review list (more pages than the gate reads)", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    for (let i = 0; i < 3001; i++) {
      w.pr.reviews.push({ id: 20000 + i, user: "erin", state: "COMMENTED", commitId: w.head.sha, submittedAt: "2026-11-24T12:30:00Z" });
    }
    const r = await gate(f, ["--sha", w.merge!.sha], "truncated review list (3005 reviews)");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^newsletter: the gate could not decide, so it refuses \(fail closed\): GitHub API GET \/repos\/corp\/newsletters\/pulls\/7\/reviews: .*more than 30 pages of 100; refusing a partial list.*A list was longer than GitHub returns in full/);
    expect(f.count(ROUTE.reviews)).toBe(30);
  }, 30_000);

  it("a commit list at GitHub's documented cap of 250", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    let parent = w.base.sha;
    const shas: string[] = [];
    for (let i = 0; i < 250; i++) {
      const c = f.commit({ parent, files: { [`${SAMPLE_DIR}/notes/${i}.md`]: `${i}\n` }, author: "dana" });
      shas.push(c.sha);
      parent = c.sha;
    }
    w.pr.commits = [...shas, ...w.pr.commits];
    const r = await gate(f, ["--sha", w.merge!.sha], "commit list at GitHub's cap (253 commits)");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^newsletter: the gate could not decide, so it refuses \(fail closed\): GitHub API GET \/repos\/corp\/newsletters\/pulls\/7\/commits: .*250 items reached GitHub's documented cap of 250/);
  }, 30_000);
});

describe("gate --pr N --publish-status: the commit status newsletter/approvals on the head", () => {
  it("pending while waiting, success once approved; the run is linked", async () => {
    const f = await start();
    const w = newsletterRepo(f, { open: true });
    const runEnv = { GITHUB_SERVER_URL: "https://github.com", GITHUB_RUN_ID: "4242" };
    const r1 = await gate(f, ["--pr", String(N), "--publish-status"], "open PR --publish-status (2 of 3)", undefined, runEnv);
    expect(r1.code).toBe(1);
    expect(r1.stdout).toContain(`Commit status ${STATUS_CONTEXT} on ${short(w.head.sha)}: pending - 2 of 3 approvals: waiting for release`);
    expect(f.state.statuses).toEqual([
      expect.objectContaining({
        sha: w.head.sha,
        state: "pending",
        context: STATUS_CONTEXT,
        description: "2 of 3 approvals: waiting for release",
        targetUrl: `https://github.com/${REPO}/actions/runs/4242`,
      }),
    ]);
    const post = f.requests.find((q) => q.method === "POST");
    expect(post?.route).toBe(ROUTE.statuses);
    expect(post?.status).toBe(201);

    // carol approves: the same command sets success.
    w.pr.reviews.push({ id: 9004, user: "carol", state: "APPROVED", commitId: w.head.sha, submittedAt: T.carol });
    const r2 = await gate(f, ["--pr", String(N), "--publish-status", "--format", "json"], "open PR --publish-status (3 of 3)");
    expect(r2.code).toBe(0);
    const out = JSON.parse(r2.stdout) as { published: { state: string; description: string; sha: string; context: string } };
    expect(out.published).toEqual({
      context: STATUS_CONTEXT,
      state: "success",
      sha: w.head.sha,
      description: "approved: 3 of 3 approvals (content @alice, privacy @bob, release @carol)",
    });
    expect(f.state.statuses.map((s) => s.state)).toEqual(["pending", "success"]);
  });

  it("failure for a refused pull request; error when the gate cannot decide", async () => {
    const f = await start();
    const w = newsletterRepo(f, { open: true, headExtra: { ".github/CODEOWNERS": "* @dana\n" } });
    const r1 = await gate(f, ["--pr", String(N), "--publish-status"], "open PR editing CODEOWNERS --publish-status");
    expect(r1.code).toBe(1);
    expect(f.state.statuses.at(-1)).toMatchObject({ state: "failure", description: "not approved: codeowners-changed; 2 of 3 approvals" });

    f.fail(ROUTE.reviews, 404);
    const r2 = await gate(f, ["--pr", String(N), "--publish-status"], "--publish-status when the gate fails (404)");
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain("newsletter: the gate could not decide, so it refuses (fail closed): GitHub API GET /repos/corp/newsletters/pulls/7/reviews: HTTP 404");
    expect(r2.stderr).toContain(`Commit status ${STATUS_CONTEXT} on ${short(w.head.sha)}: error - the gate could not decide (not-found): see the run`);
    expect(f.state.statuses.at(-1)).toMatchObject({ sha: w.head.sha, state: "error", context: STATUS_CONTEXT });
  });

  it("a status that cannot be set is an error (exit 2), after the verdict is shown", async () => {
    const f = await start();
    newsletterRepo(f, { open: true });
    f.fail(ROUTE.statuses, 403, { method: "POST", body: { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest", status: "403" } });
    const r = await gate(f, ["--pr", String(N), "--publish-status"], "--publish-status without statuses: write");
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("2 of 3 approvals: waiting for release");
    expect(r.stderr).toMatch(/could not set the commit status newsletter\/approvals on [0-9a-f]{12}: .*HTTP 403 \(Resource not accessible by integration\)/);
  });

  it("only with --pr, and descriptions stay within GitHub's 140 characters", async () => {
    const r = await runCli(["gate", "--sha", "a".repeat(40), "--publish-status"], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--publish-status goes with --pr N");
    const long = `not approved: tree-differs (+4 more); 1 of 3 approvals ${"and more words ".repeat(20)}`;
    expect(clip(long).length).toBeLessThanOrEqual(STATUS_DESCRIPTION_MAX);
    expect(clip(long)).toMatch(/^not approved: tree-differs \(\+4 more\); 1 of 3 approvals and more words .*\.\.\.$/);
    expect(clip("2 of 3 approvals: waiting for release")).toBe("2 of 3 approvals: waiting for release");
  });
});

describe("gate end to end: who can bypass the branch rules", () => {
  const ADMIN = { admin: true, maintain: true, push: true, triage: true, pull: true };
  const RULESET_ROUTE = "/repos/{owner}/{repo}/rulesets/{ruleset_id}";

  it("a token that may administer the repository: the ruleset is read (one more request), no bypass actors, no warning", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.state.tokenPermissions = ADMIN;
    f.state.rulesets[0]!.bypassActors = [];
    const r = await gate(f, ["--sha", w.merge!.sha], "admin token, ruleset without bypass actors");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("[rules-");
    expect(f.count(RULESET_ROUTE)).toBe(1);
    expect(r.requests.length).toBe(11);
    expect(r.requests[7]).toBe(`GET ${RULESET_ROUTE}`); // right after "Get rules for a branch"
  });

  it("bypass actors are named in the warning (actor type and id, never a secret)", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.state.tokenPermissions = ADMIN;
    f.state.rulesets[0]!.bypassActors = [
      { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" },
      { actor_id: 31, actor_type: "Team", bypass_mode: "pull_request" },
    ];
    const r = await gate(f, ["--sha", w.merge!.sha], "admin token, ruleset with bypass actors", (x) => (x.stdout.includes("[rules-bypass-actors]") ? "[rules-bypass-actors]" : "MISSING"));
    expect(r.code).toBe(0); // a warning: the gate itself still decides
    expect(r.stdout).toContain(
      '[rules-bypass-actors] branch rules for main can be bypassed by ruleset 1 "main: newsletters": RepositoryRole 5 (admin), always; Team 31, on pull requests; the gate still refuses to send without the approvals (`newsletter setup` removes the bypass actors of its ruleset)',
    );
    expect(r.stdout).not.toContain("[rules-unknown]");
  });

  it("an admin token to which GitHub still shows no bypass actors: unknown, with a note", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.state.tokenPermissions = ADMIN;
    delete f.state.rulesets[0]!.bypassActors;
    const r = await gate(f, ["--sha", w.merge!.sha], "admin token, bypass actors hidden");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[rules-unknown] branch rules for main: could not read bypass actors (ruleset 1 "main: newsletters": GitHub did not show its bypass actors to this token (they need repository administration))');
  });

  it("GITHUB_TOKEN (permissions.admin false): not asked, unknown, 10 requests", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.state.tokenPermissions = { admin: false, maintain: false, push: true, triage: true, pull: true };
    f.state.rulesets[0]!.bypassActors = [{ actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" }];
    const r = await gate(f, ["--sha", w.merge!.sha], "non-admin token: bypass actors not asked");
    expect(r.code).toBe(0);
    expect(r.requests.length).toBe(10);
    expect(f.count(RULESET_ROUTE)).toBe(0);
    expect(r.stdout).toContain("[rules-unknown] branch rules for main: could not read bypass actors");
  });

  it("after `setup`, the gate finds nothing to warn about in the branch rules", async () => {
    const f = await start();
    const w = newsletterRepo(f);
    f.state.rulesets = [];
    f.state.tokenPermissions = ADMIN;
    // Environments as README step 2 says (default branch only): setup reports no open one.
    f.state.environments = { "newsletter-approval": { policy: ["main"] }, "newsletter-production": { policy: ["main"] } };
    const s = await runCli(["setup"], { env: env(f), cwd: makeRepo({}, { workflows: true }) });
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/^Ruleset "newsletter" \(id \d+\) on the default branch of corp\/newsletters: created$/m);
    const r = await gate(f, ["--sha", w.merge!.sha], "after setup (admin token)");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("[rules-");
    expect(r.requests.length).toBe(11);
  });
});
