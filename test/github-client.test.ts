/**
 * The GitHub REST client (src/github/client.ts) and the gate's port over it
 * (src/github/gate-adapter.ts), against a local stand-in for the API
 * (test/helpers/github-fake.ts) whose every response is validated against
 * GitHub's OpenAPI description (test/helpers/openapi.ts).
 */
import { inspect } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { GateError, UsageError } from "../src/errors.ts";
import { createGitHubClient, gitHubClientOptionsFromEnv, nextLink, type GitHubClientOptions } from "../src/github/client.ts";
import {
  GitHubApiError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTruncatedError,
} from "../src/github/errors.ts";
import { GitHubGatePort } from "../src/github/gate-adapter.ts";
import { startGitHubFake, strongPullRequestRule, type FakeCommit, type GitHubFake, type GitHubFakeOptions } from "./helpers/github-fake.ts";
import { openApiValidator } from "./helpers/openapi.ts";

const TOKEN = "ghs_S3cr3tT0kenValue0123456789abcdefXYZ";
const REPO = "corp/newsletters";
const REVIEWS = "/repos/{owner}/{repo}/pulls/{pull_number}/reviews";

let fake: GitHubFake | undefined;
afterEach(async () => {
  const f = fake;
  fake = undefined;
  // close() throws when any response drifted from GitHub's OpenAPI description.
  await f?.close();
});

async function start(opts: GitHubFakeOptions = {}): Promise<GitHubFake> {
  fake = await startGitHubFake({ token: TOKEN, ...opts });
  return fake;
}

/** A client on the fake whose sleeps are recorded, not slept. */
function client(f: GitHubFake, opts: Partial<GitHubClientOptions> = {}) {
  const sleeps: number[] = [];
  const gh = createGitHubClient({
    token: TOKEN,
    repo: REPO,
    apiUrl: f.url,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...opts,
  });
  return { gh, sleeps };
}

function addPull(f: GitHubFake, n: number, reviews: number): void {
  const base = f.commit({ files: { "README.md": "hi\n" } });
  const head = f.commit({ parent: base.sha, files: { "newsletters/x/body.md": "Hello\n" } });
  f.state.pulls.push({
    number: n,
    title: "Newsletter",
    user: "alice",
    state: "open",
    merged: false,
    mergeCommitSha: null,
    mergedAt: null,
    head: { ref: "nl/x", sha: head.sha },
    base: { ref: "main", sha: base.sha },
    commits: [head.sha],
    reviews: Array.from({ length: reviews }, (_, i) => ({
      id: i + 1,
      user: `reviewer${i % 7}`,
      state: "COMMENTED" as const,
      commitId: head.sha,
      submittedAt: "2024-05-01T09:00:00Z",
    })),
    createdAt: "2024-05-01T08:00:00Z",
  });
}

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("pagination", () => {
  it("asks for 100 per page and follows rel=next across 3 pages", async () => {
    const f = await start();
    addPull(f, 1, 250);
    const { gh } = client(f);
    const reviews = await gh.paginate<{ id: number }>(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 });
    expect(reviews.map((r) => r.id)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(gh.requestCount).toBe(3);
    const logged = f.requests.filter((r) => r.route === REVIEWS);
    expect(logged.map((r) => [r.query["per_page"], r.query["page"] ?? "1"])).toEqual([
      ["100", "1"],
      ["100", "2"],
      ["100", "3"],
    ]);
  });

  it("one request for a list that fits one page (no link header)", async () => {
    const f = await start();
    addPull(f, 1, 100);
    const { gh } = client(f);
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(100);
    expect(gh.requestCount).toBe(1);
  });

  it("more pages than the cap → GitHubTruncatedError, never a prefix", async () => {
    const f = await start();
    addPull(f, 1, 250);
    const { gh } = client(f);
    const e = await caught(gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 }, { maxPages: 2 }));
    expect(e).toBeInstanceOf(GitHubTruncatedError);
    expect(e).toMatchObject({ kind: "truncated", reason: "page-cap", received: 200, limit: 2 });
    expect(gh.requestCount).toBe(2);
  });

  it("PR commits at GitHub's documented cap of 250 → GitHubTruncatedError", async () => {
    const f = await start();
    addPull(f, 1, 0);
    const pr = f.state.pulls[0];
    let parent = pr?.base.sha ?? null;
    const shas: string[] = [];
    for (let i = 0; i < 260; i++) {
      const c: FakeCommit = f.commit({ parent, files: { [`f${i}.txt`]: `${i}\n` } });
      shas.push(c.sha);
      parent = c.sha;
    }
    if (pr) pr.commits = shas;
    const { gh } = client(f);
    const e = await caught(gh.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", { ...gh.repoParams, pull_number: 1 }));
    expect(e).toBeInstanceOf(GitHubTruncatedError);
    expect(e).toMatchObject({ reason: "documented-cap", received: 250, limit: 250 });
  });

  it("a wrapped list shorter than its total_count → GitHubTruncatedError", async () => {
    const f = await start();
    const c = f.commit({ files: { a: "a\n" } });
    f.fail("/repos/{owner}/{repo}/commits/{ref}/check-suites", 200, { body: { total_count: 3, check_suites: [] } });
    const { gh } = client(f);
    const e = await caught(gh.paginate("GET /repos/{owner}/{repo}/commits/{ref}/check-suites", { ...gh.repoParams, ref: c.sha }));
    expect(e).toMatchObject({ kind: "truncated", reason: "total-count" });
  });

  it("refuses to follow a next link to another host (the token would go with it)", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.fail(REVIEWS, 200, { body: [], headers: { link: '<https://evil.example/repos/corp/newsletters/pulls/1/reviews?page=2>; rel="next"' } });
    const { gh } = client(f);
    const e = await caught(gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 }));
    expect(e).toMatchObject({ kind: "invalid-response" });
    expect(gh.requestCount).toBe(1);
  });

  it("nextLink reads rel=next among other relations", () => {
    expect(
      nextLink('<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last"'),
    ).toBe("https://api.github.com/x?page=3");
    expect(nextLink('<https://api.github.com/x?page=1>; rel="first"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe("retries and errors", () => {
  it("5xx then success → retried with backoff", async () => {
    const f = await start();
    addPull(f, 1, 2);
    f.fail(REVIEWS, 502);
    const { gh, sleeps } = client(f, { retryBaseMs: 100, random: () => 1 });
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(2);
    expect(gh.requestCount).toBe(2);
    expect(sleeps).toEqual([100]);
  });

  it("a dropped connection is retried like a 5xx", async () => {
    const f = await start();
    addPull(f, 1, 2);
    f.fail(REVIEWS, "reset");
    const { gh } = client(f);
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(2);
    expect(gh.requestCount).toBe(2);
  });

  it("a request that never answers times out and is retried", async () => {
    const f = await start();
    addPull(f, 1, 2);
    const { gh } = client(f, { timeoutMs: 200 });
    // Warm-up: the fake compiles a route's OpenAPI response schema on first use, which can take
    // longer than the 200 ms timeout on a loaded machine (and time out the retry as well).
    await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 });
    f.fail(REVIEWS, "hang");
    const before = gh.requestCount;
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(2);
    expect(gh.requestCount - before).toBe(2);
  });

  it("5xx every time → GitHubApiError with status, route and request id, after the bounded retries", async () => {
    const f = await start();
    addPull(f, 1, 2);
    f.fail(REVIEWS, 503, { times: Infinity });
    const { gh, sleeps } = client(f, { retries: 3, retryBaseMs: 100, random: () => 0 });
    const e = await caught(gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 }));
    expect(e).toBeInstanceOf(GitHubApiError);
    expect(e).toMatchObject({ kind: "http", status: 503, route: `GET ${REVIEWS}` });
    expect((e as GitHubApiError).requestId).toMatch(/^FAKE:/);
    expect((e as Error).cause).toBeDefined();
    expect(gh.requestCount).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("a POST is not repeated after a 5xx (it may have been applied)", async () => {
    const f = await start();
    addPull(f, 1, 0);
    f.fail("/repos/{owner}/{repo}/issues/{issue_number}/comments", 502, { method: "POST" });
    const { gh } = client(f);
    const e = await caught(gh.octokit.rest.issues.createComment({ ...gh.repoParams, issue_number: 1, body: "hi" }));
    expect(e).toMatchObject({ kind: "http", status: 502 });
    expect(gh.requestCount).toBe(1);
    expect(f.state.issueComments).toHaveLength(0);
  });

  it("404 → GitHubNotFoundError, not retried", async () => {
    const f = await start();
    const { gh } = client(f);
    const e = await caught(gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 99 }));
    expect(e).toBeInstanceOf(GitHubNotFoundError);
    expect(e).toMatchObject({ kind: "not-found", status: 404, route: "GET /repos/{owner}/{repo}/pulls/{pull_number}" });
    expect(gh.requestCount).toBe(1);
  });

  it("a 403 that is not a rate limit fails at once", async () => {
    const f = await start();
    f.state.protections["main"] = "forbidden";
    const { gh } = client(f);
    const e = await caught(gh.octokit.rest.repos.getBranchProtection({ ...gh.repoParams, branch: "main" }));
    expect(e).toMatchObject({ kind: "http", status: 403 });
    expect(gh.requestCount).toBe(1);
  });

  it("the token appears in no error message, string or inspection", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.fail(REVIEWS, 500, { times: Infinity });
    const { gh } = client(f, { retries: 1 });
    const errors = [
      await caught(gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })),
      await caught(gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 99 })),
      await caught(createGitHubClient({ token: TOKEN, repo: REPO, apiUrl: "http://127.0.0.1:9", retries: 0 }).octokit.rest.repos.get({ owner: "corp", repo: "newsletters" })),
    ];
    expect(errors[2]).toMatchObject({ kind: "network", status: null });
    for (const e of errors) {
      expect(e).toBeInstanceOf(GitHubApiError);
      const text = [(e as Error).message, String(e), inspect(e, { depth: 8 }), JSON.stringify(e)].join("\n");
      expect(text).not.toContain(TOKEN);
    }
    // ... while the token did reach GitHub.
    expect(f.requests[0]?.authorization).toBe(`token ${TOKEN}`);
  });
});

describe("rate limits", () => {
  it("primary limit exhausted (403, remaining 0, reset 1–2 s ahead) → waits for the reset, then succeeds", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.state.rateLimit.remaining = 0;
    // Two whole seconds ahead: reset is in whole seconds, so "+1" could be a few ms away.
    f.state.rateLimit.reset = Math.floor(Date.now() / 1000) + 2;
    const gh = createGitHubClient({ token: TOKEN, repo: REPO, apiUrl: f.url });
    const t0 = Date.now();
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(1);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThan(5000);
    expect(f.requests.map((r) => r.status)).toEqual([403, 200]);
  });

  it("a success with remaining 0 makes the next request wait for the reset instead of spending a 403", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.state.rateLimit.remaining = 1;
    const reset = Math.floor(Date.now() / 1000) + 30;
    f.state.rateLimit.reset = reset;
    let clock = Date.now();
    const sleeps: number[] = [];
    const { gh } = client(f, {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
        f.state.rateLimit.remaining = 10; // the window reset
      },
    });
    await gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 1 });
    await gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 1 });
    expect(f.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(25_000);
  });

  it("a reset further away than maxWaitMs → GitHubRateLimitError without waiting", async () => {
    const f = await start();
    f.state.rateLimit.remaining = 0;
    f.state.rateLimit.reset = Math.floor(Date.now() / 1000) + 3600;
    const { gh, sleeps } = client(f, { maxWaitMs: 60_000 });
    const e = await caught(gh.octokit.rest.repos.get(gh.repoParams));
    expect(e).toBeInstanceOf(GitHubRateLimitError);
    expect(e).toMatchObject({ kind: "rate-limited", limit: "primary", status: 403 });
    expect((e as GitHubRateLimitError).resetAt?.getTime()).toBe(f.state.rateLimit.reset * 1000);
    expect(sleeps).toEqual([]);
  });

  it("secondary limit: 403 with retry-after → waits that long, then succeeds", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.fail(REVIEWS, 403, { headers: { "retry-after": "7" } });
    const { gh, sleeps } = client(f);
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(1);
    expect(sleeps).toEqual([7000]);
    expect(gh.requestCount).toBe(2);
  });

  it("secondary limit: a bare 429 waits a minute, then exponentially longer, then gives up", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.fail(REVIEWS, 429, { times: Infinity });
    const { gh, sleeps } = client(f, { maxWaitMs: 10 * 60_000, rateLimitRetries: 2 });
    const e = await caught(gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 }));
    expect(e).toMatchObject({ kind: "rate-limited", limit: "secondary", status: 429 });
    expect(sleeps).toEqual([60_000, 120_000]);
    expect(gh.requestCount).toBe(3);
  });

  it("a POST refused by a rate limit is repeated (GitHub did not process it)", async () => {
    const f = await start();
    addPull(f, 1, 0);
    f.fail("/repos/{owner}/{repo}/issues/{issue_number}/comments", 403, { method: "POST", headers: { "retry-after": "1" } });
    const { gh } = client(f);
    await gh.octokit.rest.issues.createComment({ ...gh.repoParams, issue_number: 1, body: "hi" });
    expect(f.state.issueComments).toHaveLength(1);
  });
});

/**
 * What is retried and how long the client waits, one case per rule, from one base world: PR #1
 * with one review and one comment. Each case adds a fault and makes one call.
 */
describe("retry rules (table)", () => {
  const COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments";
  const COMMENT = "/repos/{owner}/{repo}/issues/comments/{comment_id}";
  type Call = (gh: ReturnType<typeof client>["gh"], f: GitHubFake) => Promise<unknown>;
  const listReviews: Call = (gh) => gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 });
  const postComment: Call = (gh) => gh.octokit.rest.issues.createComment({ ...gh.repoParams, issue_number: 1, body: "hi" });
  const postStatusIdempotent: Call = (gh, f) =>
    gh.octokit.rest.repos.createCommitStatus({ ...gh.repoParams, sha: f.state.pulls[0]?.head.sha ?? "", state: "success", context: "c", request: { idempotent: true } });
  const patchComment: Call = (gh) => gh.octokit.rest.issues.updateComment({ ...gh.repoParams, comment_id: 1, body: "edited" });
  const cases: Array<{
    name: string;
    route: string;
    status: number;
    method?: string;
    headers?: Record<string, string>;
    times?: number;
    call: Call;
    ok: boolean;
    requests: number;
    sleeps?: number[];
    kind?: string;
  }> = [
    { name: "429 with retry-after → retried once after that wait, then succeeds", route: REVIEWS, status: 429, headers: { "retry-after": "2" }, call: listReviews, ok: true, requests: 2, sleeps: [2000] },
    { name: "5xx with retry-after → waits what GitHub asks, not the backoff", route: REVIEWS, status: 503, headers: { "retry-after": "3" }, call: listReviews, ok: true, requests: 2, sleeps: [3000] },
    { name: "501 (not a transient failure) → not retried", route: REVIEWS, status: 501, call: listReviews, ok: false, requests: 1, kind: "http" },
    { name: "400 → not retried", route: REVIEWS, status: 400, call: listReviews, ok: false, requests: 1, kind: "http" },
    { name: "422 → not retried", route: REVIEWS, status: 422, call: listReviews, ok: false, requests: 1, kind: "http" },
    { name: "a PATCH after a 5xx → not repeated (it may have been applied)", route: COMMENT, method: "PATCH", status: 502, call: patchComment, ok: false, requests: 1, kind: "http" },
    { name: "a POST marked idempotent after a 5xx → retried", route: "/repos/{owner}/{repo}/statuses/{sha}", method: "POST", status: 502, call: postStatusIdempotent, ok: true, requests: 2 },
    { name: "a POST after a secondary rate limit (429) → repeated: GitHub did not process it", route: COMMENTS, method: "POST", status: 429, headers: { "retry-after": "1" }, call: postComment, ok: true, requests: 2, sleeps: [1000] },
    { name: "secondary limit with retry-after beyond maxWaitMs → GitHubRateLimitError at once", route: REVIEWS, status: 403, headers: { "retry-after": "600" }, call: listReviews, ok: false, requests: 1, sleeps: [], kind: "rate-limited" },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const f = await start();
      addPull(f, 1, 1);
      f.state.issueComments.push({ id: 1, issueNumber: 1, body: "first", user: "newsletter-bot[bot]", createdAt: "2024-05-01T09:00:00Z", updatedAt: "2024-05-01T09:00:00Z" });
      f.fail(c.route, c.status, { ...(c.method ? { method: c.method } : {}), ...(c.headers ? { headers: c.headers } : {}), times: c.times ?? 1 });
      const { gh, sleeps } = client(f, { retryBaseMs: 100, random: () => 1, maxWaitMs: 120_000 });
      const outcome = await c.call(gh, f).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (c.ok) expect(outcome).toBeUndefined();
      else expect(outcome).toMatchObject({ kind: c.kind });
      expect(gh.requestCount).toBe(c.requests);
      if (c.sleeps) expect(sleeps).toEqual(c.sleeps);
    });
  }

  it("a success with remaining 0 and a reset beyond maxWaitMs → the next call fails as rate-limited without a request", async () => {
    const f = await start();
    addPull(f, 1, 1);
    f.state.rateLimit.remaining = 1;
    f.state.rateLimit.reset = Math.floor(Date.now() / 1000) + 3600;
    const { gh, sleeps } = client(f, { maxWaitMs: 60_000 });
    await gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 1 });
    const e = await caught(gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 1 }));
    expect(e).toBeInstanceOf(GitHubRateLimitError);
    expect(e).toMatchObject({ kind: "rate-limited", limit: "primary", status: null });
    expect((e as Error).message).toContain("GET /repos/corp/newsletters/pulls/1");
    expect(gh.requestCount).toBe(1);
    expect(f.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe("configuration", () => {
  it("honours GITHUB_API_URL (a GHES-style /api/v3 prefix), pagination links included", async () => {
    const f = await start({ basePath: "/api/v3" });
    addPull(f, 1, 150);
    const env = { GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: REPO, GITHUB_API_URL: f.url };
    const opts = gitHubClientOptionsFromEnv(env);
    expect(opts.apiUrl).toMatch(/\/api\/v3$/);
    const gh = createGitHubClient(opts);
    expect(await gh.paginate(`GET ${REVIEWS}`, { ...gh.repoParams, pull_number: 1 })).toHaveLength(150);
    expect(f.requests).toHaveLength(2);
    expect(f.requests.every((r) => r.route === REVIEWS && r.status === 200)).toBe(true);
    expect(f.requests[0]?.apiVersion).toBe("2022-11-28");
  });

  it("defaults to https://api.github.com; refuses missing or malformed inputs", () => {
    expect(gitHubClientOptionsFromEnv({ GITHUB_TOKEN: "t", GITHUB_REPOSITORY: REPO }).apiUrl).toBe("https://api.github.com");
    expect(createGitHubClient({ token: "t", repo: REPO }).apiUrl).toBe("https://api.github.com");
    expect(() => gitHubClientOptionsFromEnv({ GITHUB_REPOSITORY: REPO })).toThrow(UsageError);
    expect(() => createGitHubClient({ token: "t", repo: "not-a-repo" })).toThrow(UsageError);
  });
});

describe("the fake stays true to GitHub's OpenAPI description", () => {
  it("the validator accepts GitHub's shape and catches a wrong one", () => {
    const v = openApiValidator();
    expect(v.validate("get", REVIEWS, 200, []).valid).toBe(true);
    const wrong = v.validate("get", REVIEWS, 200, [{ id: "1", user: null, state: "APPROVED" }]);
    expect(wrong.valid).toBe(false);
    expect(wrong.errors.join("\n")).toMatch(/node_id|must be integer/);
    // OpenAPI 3.0 `nullable` (here on a nullable enum without null in its list) is honoured.
    expect(v.validateComponent("check-suite", { conclusion: null }).errors.join("\n")).not.toMatch(/conclusion/);
    expect(() => v.validate("get", "/repos/{owner}/{repo}/nope", 200, {})).toThrow(/no operation/);
  });

  it("a deliberately wrong response is caught, answered 599 and reported at close", async () => {
    const f = await startGitHubFake({ token: TOKEN });
    addPull(f, 1, 0);
    f.fail("/repos/{owner}/{repo}/pulls/{pull_number}", 200, { body: { id: "not-a-number", title: 1 } });
    const { gh } = client(f);
    const e = await caught(gh.octokit.rest.pulls.get({ ...gh.repoParams, pull_number: 1 }));
    expect(e).toMatchObject({ kind: "http", status: 599 });
    expect(gh.requestCount).toBe(1);
    expect(f.drift).toHaveLength(1);
    await expect(f.close()).rejects.toThrow(/do not match GitHub's OpenAPI description/);
  });

  it("every route the fake serves validates", async () => {
    const f = await start();
    const s = scenario(f);
    const { gh } = client(f);
    const o = gh.octokit.rest;
    const p = gh.repoParams;
    await o.repos.get(p);
    await o.pulls.get({ ...p, pull_number: 7 });
    await gh.paginate("GET /repos/{owner}/{repo}/pulls", { ...p, state: "all" });
    await gh.paginate(`GET ${REVIEWS}`, { ...p, pull_number: 7 });
    await gh.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", { ...p, pull_number: 7 });
    await gh.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", { ...p, pull_number: 7 });
    await gh.paginate("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", { ...p, commit_sha: s.merge.sha });
    await gh.paginate("GET /repos/{owner}/{repo}/commits/{ref}/check-suites", { ...p, ref: s.head.sha });
    await o.repos.getCommit({ ...p, ref: s.merge.sha });
    await o.repos.compareCommitsWithBasehead({ ...p, basehead: `${s.base.sha}...${s.merge.sha}` });
    await o.git.getTree({ ...p, tree_sha: s.merge.sha, recursive: "1" });
    const file = await o.repos.getContent({ ...p, path: ".github/CODEOWNERS", ref: s.base.sha });
    expect(Array.isArray(file.data) ? null : file.data.type).toBe("file");
    await o.repos.getContent({ ...p, path: "newsletters", ref: "main" });
    if (!Array.isArray(file.data)) await o.git.getBlob({ ...p, file_sha: file.data.sha });
    await gh.paginate("GET /repos/{owner}/{repo}/activity", { ...p, ref: "refs/heads/nl/x" });
    await gh.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/timeline", { ...p, issue_number: 7 });
    const created = await o.issues.createComment({ ...p, issue_number: 7, body: "<!-- newsletter-gate -->\nhello" });
    await o.issues.updateComment({ ...p, comment_id: created.data.id, body: "<!-- newsletter-gate -->\nupdated" });
    await o.issues.getComment({ ...p, comment_id: created.data.id });
    expect(await gh.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", { ...p, issue_number: 7 })).toHaveLength(1);
    await o.repos.createCommitStatus({ ...p, sha: s.head.sha, state: "success", context: "newsletter/gate", description: "approved" });
    await gh.paginate("GET /repos/{owner}/{repo}/commits/{ref}/statuses", { ...p, ref: s.head.sha });
    await o.checks.create({ ...p, name: "gate", head_sha: s.head.sha, conclusion: "success", output: { title: "t", summary: "s" } });
    await gh.paginate("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", { ...p, ref: s.head.sha });
    await o.teams.getByName({ org: "corp", team_slug: "editors" });
    await o.teams.getMembershipForUserInOrg({ org: "corp", team_slug: "editors", username: "bob" });
    await gh.paginate("GET /orgs/{org}/teams/{team_slug}/members", { org: "corp", team_slug: "editors" });
    await o.repos.getCollaboratorPermissionLevel({ ...p, username: "bob" });
    await o.repos.getCollaboratorPermissionLevel({ ...p, username: "nobody" });
    await gh.paginate("GET /repos/{owner}/{repo}/collaborators", { ...p, affiliation: "all" });
    await gh.paginate("GET /repos/{owner}/{repo}/rules/branches/{branch}", { ...p, branch: "main" });
    await gh.paginate("GET /repos/{owner}/{repo}/rulesets", p);
    await o.repos.getRepoRuleset({ ...p, ruleset_id: 77 });
    await o.repos.getBranchProtection({ ...p, branch: "main" });
    await caught(o.pulls.get({ ...p, pull_number: 404 }));
    expect(f.drift).toEqual([]);
    expect(f.requests.every((r) => r.status > 0 && r.status < 599)).toBe(true);
  });
});

// ---------------------------------------------------------------- the gate port

interface Scenario {
  base: FakeCommit;
  c1: FakeCommit;
  c2: FakeCommit;
  head: FakeCommit;
  merge: FakeCommit;
}

/**
 * A merged newsletter PR #7 as the gate sees it: three commits on nl/x,
 * squash-merged to main, three approvals, a team, a ruleset and classic
 * protection.
 */
function scenario(f: GitHubFake): Scenario {
  const nl = "newsletters/2024-05-01-x";
  const base = f.commit({ files: { ".github/CODEOWNERS": "newsletters/ @corp/editors\n", ".github/newsletter.yml": "sender: {}\n", "README.md": "hi\n" }, author: "carol" });
  f.push("main", base.sha, { at: "2024-05-01T07:00:00Z", actor: "carol" });
  const c1 = f.commit({ parent: base.sha, files: { [`${nl}/body.md`]: "Hello\n" }, author: "alice" });
  const c2 = f.commit({ parent: c1.sha, files: { [`${nl}/newsletter.yml`]: "subject: x\n" }, author: "alice", committer: "web-flow" });
  const head = f.commit({ parent: c2.sha, files: { [`${nl}/body.md`]: "Hello, world\n" }, author: null, committer: null });
  f.push("nl/x", c1.sha, { at: "2024-05-01T08:00:00Z" });
  f.push("nl/x", c2.sha, { at: "2024-05-01T08:05:00Z" });
  f.push("nl/x", head.sha, { at: "2024-05-01T08:10:00Z" });
  const merge = f.commit({ parent: base.sha, files: { [`${nl}/body.md`]: "Hello, world\n", [`${nl}/newsletter.yml`]: "subject: x\n" }, author: "alice", committer: "web-flow" });
  f.push("main", merge.sha, { at: "2024-05-01T10:00:00Z", actor: "carol" });
  f.pull({
    number: 7,
    title: "Newsletter 2024-05-01",
    merged: true,
    mergeCommitSha: merge.sha,
    mergedAt: "2024-05-01T10:00:00Z",
    mergedBy: "carol",
    head: { ref: "nl/x", sha: head.sha },
    base: { ref: "main", sha: base.sha },
    commits: [c1.sha, c2.sha, head.sha],
    reviews: [
      { id: 1, user: "bob", state: "APPROVED", commitId: head.sha, submittedAt: "2024-05-01T09:00:00Z" },
      { id: 2, user: "erin", state: "APPROVED", commitId: head.sha, submittedAt: "2024-05-01T09:10:00Z" },
      { id: 3, user: "carol", state: "APPROVED", commitId: head.sha, submittedAt: "2024-05-01T09:20:00Z" },
      { id: 4, user: "newsletter-bot[bot]", state: "COMMENTED", commitId: head.sha, submittedAt: "2024-05-01T09:21:00Z" },
      { id: 5, user: "dave", state: "PENDING", commitId: head.sha },
    ],
  });
  f.state.checkSuites.push({ id: 11, headSha: head.sha, headBranch: "nl/x", status: "completed", conclusion: "success", app: "github-actions", createdAt: "2024-05-01T08:10:10Z" });
  f.state.teams.push({ org: "corp", slug: "editors", id: 55, members: { bob: { role: "member", state: "active" }, frank: { role: "member", state: "pending" } } });
  f.state.collaborators["bob"] = "write";
  f.state.collaborators["erin"] = "maintain";
  f.state.collaborators["carol"] = "admin";
  f.state.collaborators["tom"] = "triage";
  f.state.rulesets.push({
    id: 77,
    name: "main",
    enforcement: "active",
    include: ["~DEFAULT_BRANCH"],
    rules: [
      strongPullRequestRule(),
      { type: "required_status_checks", parameters: { strict_required_status_checks_policy: true, required_status_checks: [{ context: "check" }] } },
    ],
    bypassActors: [],
  });
  f.state.protections["main"] = { required_pull_request_reviews: { required_approving_review_count: 2 }, required_status_checks: { contexts: ["ci"] }, enforce_admins: true };
  f.state.timeline[7] = [];
  return { base, c1, c2, head, merge };
}

async function gateError(p: Promise<unknown>): Promise<GateError> {
  const e = await caught(p);
  expect(e).toBeInstanceOf(GateError);
  return e as GateError;
}

describe("GitHubGatePort", () => {
  it("answers a typical merged PR in few requests", async () => {
    const f = await start();
    const s = scenario(f);
    const { gh } = client(f);
    const port = new GitHubGatePort(gh);

    expect(await port.pullsForCommit(s.merge.sha)).toEqual([7]);
    const pr = await port.pull(7);
    expect(pr).toEqual({
      number: 7,
      state: "closed",
      merged: true,
      mergeCommitSha: s.merge.sha,
      headSha: s.head.sha,
      headRef: "nl/x",
      headRepo: REPO,
      baseRepo: REPO,
      baseRef: "main",
      baseSha: s.base.sha,
      defaultBranch: "main",
      author: { login: "alice", type: "User" },
      mergedAt: "2024-05-01T10:00:00Z",
    });
    const [reviews, commits, files, pushedAt, rules] = await Promise.all([
      port.reviews(7),
      port.commits(7),
      port.files(7),
      port.lastPushAt(7, pr.headSha),
      port.branchRules(pr.baseRef),
    ]);
    expect(reviews.map((r) => [r.login, r.userType, r.state, r.submittedAt])).toEqual([
      ["bob", "User", "APPROVED", "2024-05-01T09:00:00Z"],
      ["erin", "User", "APPROVED", "2024-05-01T09:10:00Z"],
      ["carol", "User", "APPROVED", "2024-05-01T09:20:00Z"],
      ["newsletter-bot[bot]", "Bot", "COMMENTED", "2024-05-01T09:21:00Z"],
      ["dave", "User", "PENDING", null],
    ]);
    expect(commits).toEqual([
      { sha: s.c1.sha, authorLogin: "alice", committerLogin: "alice" },
      { sha: s.c2.sha, authorLogin: "alice", committerLogin: "web-flow" },
      { sha: s.head.sha, authorLogin: null, committerLogin: null },
    ]);
    expect(files.map((x) => [x.filename, x.status])).toEqual([
      ["newsletters/2024-05-01-x/body.md", "added"],
      ["newsletters/2024-05-01-x/newsletter.yml", "added"],
    ]);
    expect(pushedAt).toBe("2024-05-01T08:10:00Z");
    // One request: the ruleset requires reviews, so classic protection is not read; bypass
    // actors are not listed by "Get rules for a branch" (unknown, with a note).
    expect(rules).toEqual({
      requiredApprovingReviewCount: 3,
      requireCodeOwnerReview: true,
      dismissStaleReviews: true,
      requireLastPushApproval: true,
      requiredStatusChecks: ["check"],
      bypassActorsPresent: null,
      notes: ['REST "Get rules for a branch" does not list bypass actors; check that ruleset 77 allows no bypass'],
    });
    // Squash merge with equal trees: the comparison alone shows it.
    expect(await port.changedBetween(pr.headSha, s.merge.sha)).toEqual([]);
    // One request per question; pullsForCommit's pull-request-simple answers pull() (no "Get a
    // pull request") and gives commits, files and lastPushAt the head branch.
    expect(gh.requestCount).toBe(7);
    expect(f.count("/repos/{owner}/{repo}/pulls/{pull_number}")).toBe(0);

    expect(await port.fileAtRef(".github/CODEOWNERS", s.base.sha)).toBe("newsletters/ @corp/editors\n");
    expect(await port.fileAtRef("docs/CODEOWNERS", s.base.sha)).toBeNull();
    expect(await port.teamMembership("corp", "editors", "bob")).toBe("active");
    expect(await port.teamMembership("corp", "editors", "frank")).toBe("pending");
    expect(await port.teamMembership("corp", "editors", "carol")).toBe("none");
    const before = gh.requestCount;
    const perms = await port.permissions(["bob", "Erin", "carol", "tom", "mallory"]);
    expect(Object.fromEntries(perms)).toEqual({ bob: "write", erin: "maintain", carol: "admin", tom: "triage", mallory: "none" });
    // The collaborator list, then mallory (not on it) asked on her own.
    expect(gh.requestCount - before).toBe(2);
    expect(f.count("/repos/{owner}/{repo}/collaborators")).toBe(1);
    expect(f.requests.at(-2)?.query["affiliation"]).toBe("all");
  });

  it("permissions: one login is one per-user question; a forbidden collaborator list falls back to them", async () => {
    const f = await start();
    scenario(f);
    const { gh } = client(f);
    const port = new GitHubGatePort(gh);
    expect([...(await port.permissions(["bob"]))]).toEqual([["bob", "write"]]);
    expect(f.count("/repos/{owner}/{repo}/collaborators")).toBe(0);
    f.state.collaboratorList = "forbidden";
    expect([...(await port.permissions(["bob", "carol"]))]).toEqual([
      ["bob", "write"],
      ["carol", "admin"],
    ]);
    expect(f.count("/repos/{owner}/{repo}/collaborators/{username}/permission")).toBe(3);
  });

  it("permissions and team members decide by request count on long lists", async () => {
    const f = await start();
    scenario(f);
    // Sorted by login: bob, carol, erin, m000 ... m449, tom (page 5 of 5).
    for (let i = 0; i < 450; i++) f.state.collaborators[`m${String(i).padStart(3, "0")}`] = "read";
    const members: Record<string, { role: "member"; state: "active" }> = {};
    for (let i = 0; i < 450; i++) members[`member${String(i).padStart(3, "0")}`] = { role: "member", state: "active" };
    members["zed"] = { role: "member", state: "active" };
    f.state.teams.push({ org: "corp", slug: "big", id: 56, members });
    const { gh } = client(f);
    const port = new GitHubGatePort(gh);
    // bob and carol sort first: page 1 of 5 answers both.
    expect([...(await port.permissions(["bob", "carol"]))]).toEqual([
      ["bob", "write"],
      ["carol", "admin"],
    ]);
    expect(gh.requestCount).toBe(1);
    // tom is on page 5: one per-user question is cheaper than four more pages.
    expect([...(await port.permissions(["erin", "tom"]))]).toEqual([
      ["erin", "maintain"],
      ["tom", "triage"],
    ]);
    expect(gh.requestCount).toBe(3);
    // zed is on the last page of a 5-page team, mallory on none: two per-user questions.
    const before = gh.requestCount;
    expect([...(await port.activeTeamMembers("corp", "big", ["member000", "zed", "mallory"]))].sort()).toEqual(["member000", "zed"]);
    expect(gh.requestCount - before).toBe(3);
    // A pending member is not active, in the list or one by one.
    expect([...(await port.activeTeamMembers("corp", "editors", ["bob", "frank", "carol"]))]).toEqual(["bob"]);
  });

  it("changedBetween: compare when the base is an ancestor, tree diff otherwise", async () => {
    const f = await start();
    const s = scenario(f);
    const later = f.commit({ parent: s.merge.sha, files: { "recipients/list.csv": "email\n", "README.md": null } });
    const { gh } = client(f);
    const port = new GitHubGatePort(gh);
    expect(await port.changedBetween(s.merge.sha, later.sha)).toEqual(["README.md", "recipients/list.csv"]);
    expect(gh.requestCount).toBe(1);
    // head is not an ancestor of `later` (squash), and the trees differ: compare + two trees.
    expect(await port.changedBetween(s.head.sha, later.sha)).toEqual(["README.md", "recipients/list.csv"]);
    expect(gh.requestCount).toBe(4);
    expect(await port.changedBetween(s.head.sha, s.merge.sha)).toEqual([]);
    expect(gh.requestCount).toBe(5);
  });

  it("fails closed with GateError kinds: not-found, truncated, api", async () => {
    const f = await start();
    const s = scenario(f);
    const { gh } = client(f, { retries: 0 });
    const port = new GitHubGatePort(gh);

    expect((await gateError(port.pull(99))).kind).toBe("not-found");
    expect((await gateError(port.pullsForCommit("f".repeat(40)))).kind).toBe("not-found");
    const noPush = await gateError(port.lastPushAt(7, "e".repeat(40)));
    expect(noPush.kind).toBe("not-found");
    expect(noPush.operation).toBe(`lastPushAt(7, ${"e".repeat(40)})`);

    // GitHub listing fewer commits or files than the PR counts → truncated.
    f.state.listCaps["/repos/{owner}/{repo}/pulls/{pull_number}/commits"] = 2;
    f.state.listCaps["/repos/{owner}/{repo}/pulls/{pull_number}/files"] = 1;
    expect((await gateError(port.commits(7))).kind).toBe("truncated");
    expect((await gateError(port.files(7))).kind).toBe("truncated");

    f.fail(REVIEWS, 502);
    const api = await gateError(port.reviews(7));
    expect(api.kind).toBe("api");
    expect(api.cause).toBeInstanceOf(GitHubApiError);
    expect(api.message).toContain("reviews(7)");
    expect(api.message).not.toContain(TOKEN);

    f.state.teams = [];
    expect((await gateError(port.teamMembership("corp", "ghosts", "bob"))).kind).toBe("not-found");
    const invisible = await gateError(port.activeTeamMembers("corp", "ghosts", ["bob", "carol"]));
    expect(invisible.kind).toBe("not-found");
    expect(invisible.message).toContain("cannot see it");
    expect(s.head.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("files: GitHub's 3000 cap → truncated", async () => {
    const f = await start();
    scenario(f);
    const pr = f.state.pulls[0];
    if (pr) pr.files = Array.from({ length: 3001 }, (_, i) => ({ filename: `f/${i}`, status: "added" as const }));
    const { gh } = client(f);
    const e = await gateError(new GitHubGatePort(gh).files(7));
    expect(e.kind).toBe("truncated");
    expect(e.cause).toBeInstanceOf(GitHubTruncatedError);
  });

  it("fileAtRef: a file above 1 MB comes whole through the blob API; a directory is invalid", async () => {
    const f = await start();
    const big = "x".repeat(1024 * 1024 + 10) + "\n";
    const c = f.commit({ files: { "big.txt": big, "dir/a.txt": "a\n" } });
    const { gh } = client(f);
    const port = new GitHubGatePort(gh);
    expect(await port.fileAtRef("big.txt", c.sha)).toBe(big);
    expect(f.count("/repos/{owner}/{repo}/git/blobs/{file_sha}")).toBe(1);
    expect((await gateError(port.fileAtRef("dir", c.sha))).kind).toBe("invalid-response");
  });

  it("branchRules: without a review ruleset, classic protection is read; unreadable leaves unknowns null, with a note", async () => {
    const f = await start();
    scenario(f);
    f.state.rulesets = [];
    const { gh } = client(f);
    expect(await new GitHubGatePort(gh).branchRules("main")).toEqual({
      requiredApprovingReviewCount: 2,
      requireCodeOwnerReview: false,
      dismissStaleReviews: false,
      requireLastPushApproval: false,
      requiredStatusChecks: ["ci"],
      bypassActorsPresent: false,
      notes: [],
    });
    expect(gh.requestCount).toBe(2);
    f.state.protections["main"] = "forbidden";
    const rules = await new GitHubGatePort(gh).branchRules("main");
    expect(rules).toMatchObject({
      requiredApprovingReviewCount: null,
      requireCodeOwnerReview: null,
      dismissStaleReviews: null,
      requireLastPushApproval: null,
      requiredStatusChecks: null,
      bypassActorsPresent: null,
    });
    expect(rules.notes).toEqual([expect.stringContaining("needs administration: read")]);
  });
});
