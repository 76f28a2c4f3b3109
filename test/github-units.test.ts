/**
 * The GitHub client's parts, each on its own, without HTTP: the retry rules
 * (src/github/retry-policy.ts), the pacing (pacing.ts) with a hand-made
 * request function, request names (route.ts), the pagination helpers
 * (paginate.ts) and the one error mapping (errors.ts `toGitHubError`,
 * src/errors.ts `apiFailureKind`, gate/port-guard.ts `gateErrorOf`). The
 * whole client against the OpenAPI-validated fake: test/github-client.test.ts.
 */
import { describe, expect, it } from "vitest";
import { apiFailureKind, GateError } from "../src/errors.ts";
import { guardCall, gateErrorOf } from "../src/gate/port-guard.ts";
import {
  describer,
  GitHubApiError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTruncatedError,
  toGitHubError,
} from "../src/github/errors.ts";
import { RequestPacing, type HookOptions } from "../src/github/pacing.ts";
import { linkRel, sameApi } from "../src/github/paginate.ts";
import { DO_NOT_RETRY, giveUpReason, isIdempotent, rateLimitWait, serverErrorWait, type RetryPolicy } from "../src/github/retry-policy.ts";
import { requestNames } from "../src/github/route.ts";

const POLICY: RetryPolicy = { retries: 3, rateLimitRetries: 3, maxWaitMs: 120_000, retryBaseMs: 1000 };
const NOW = Date.parse("2024-05-01T09:00:00Z");
const TOKEN = "ghs_unitTestToken0123456789";
const describeIt = describer(TOKEN);

describe("retry rules", () => {
  it("retries 500, 502, 503, 504 only; every other 4xx/5xx is on plugin-retry's doNotRetry list", () => {
    for (const s of [500, 502, 503, 504]) expect(DO_NOT_RETRY).not.toContain(s);
    for (const s of [400, 401, 403, 404, 409, 410, 422, 429, 451, 501, 505, 599]) expect(DO_NOT_RETRY).toContain(s);
  });

  it.each([
    ["GET", undefined, true],
    ["put", undefined, true],
    ["DELETE", undefined, true],
    ["POST", undefined, false],
    ["PATCH", undefined, false],
    ["POST", { idempotent: true }, true],
  ] as const)("%s %o idempotent → %s", (method, request, want) => {
    expect(isIdempotent(method, request)).toBe(want);
  });

  const waits: Array<[string, Record<string, string>, number, number]> = [
    ["retry-after seconds", { "retry-after": "7" }, 0, 7000],
    ["retry-after as an HTTP date", { "retry-after": new Date(NOW + 5000).toUTCString() }, 0, 5000],
    ["primary: until x-ratelimit-reset, plus 250 ms", { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 30) }, 0, 30_250],
    ["no header: one minute", {}, 0, 60_000],
    ["no header, third retry: four minutes", {}, 2, 240_000],
  ];
  it.each(waits)("rate-limit wait: %s", (_name, headers, attempt, ms) => {
    expect(rateLimitWait(headers, attempt, NOW).ms).toBe(ms);
  });

  it("server-error backoff doubles from retryBaseMs with jitter, caps at 30 s; a retry-after within maxWaitMs wins", () => {
    expect([0, 1, 2].map((a) => serverErrorWait(POLICY, {}, a, () => 0))).toEqual([500, 1000, 2000]);
    expect(serverErrorWait(POLICY, {}, 10, () => 1)).toBe(30_000);
    expect(serverErrorWait(POLICY, { "retry-after": "3" }, 0, () => 0)).toBe(3000);
    expect(serverErrorWait(POLICY, { "retry-after": "3600" }, 0, () => 0)).toBe(500);
  });

  it("gives up past maxWaitMs or after rateLimitRetries, and says which", () => {
    expect(giveUpReason(POLICY, "secondary", { ms: 60_000 }, 0)).toBeUndefined();
    expect(giveUpReason(POLICY, "primary", { ms: 3_600_000 }, 0)).toMatch(/primary rate limit; GitHub asks to wait 3600 s, more than the 120 s/);
    expect(giveUpReason(POLICY, "secondary", { ms: 1000 }, 3)).toMatch(/persisted through 3 retries/);
  });
});

/** A pacing whose sleeps are recorded on a clock that moves by them. */
function pacing(policy: Partial<RetryPolicy> = {}) {
  let clock = NOW;
  const sleeps: number[] = [];
  const p = new RequestPacing(
    {
      ...POLICY,
      ...policy,
      timeoutMs: 1000,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
      random: () => 0,
    },
    describeIt,
  );
  return { p, sleeps };
}

const NAMES = () => ({ route: "GET /repos/{owner}/{repo}/pulls/{pull_number}", shown: "GET /repos/corp/news/pulls/7" });
const opts = (method = "GET", request: Record<string, unknown> = {}): HookOptions => ({ method, url: "/repos/{owner}/{repo}/pulls/{pull_number}", headers: {}, request });
const ok = (headers: Record<string, string> = {}) => async () => ({ headers, status: 200, data: {} });
function failing(status: number, headers: Record<string, string> = {}) {
  return async () => {
    throw Object.assign(new Error("failed"), { status, response: { status, headers, data: { message: "failed" } } });
  };
}

describe("pacing (the innermost hook and plugin-throttling's handlers)", () => {
  it("counts every attempt, sets the API version and a timeout; only a non-idempotent method gets retries 0", async () => {
    const { p } = pacing();
    const get = opts("GET");
    const post = opts("POST");
    await p.attempt(ok(), get, NAMES);
    await p.attempt(ok(), post, NAMES);
    expect(p.requestCount).toBe(2);
    expect(get.headers["x-github-api-version"]).toBe("2022-11-28");
    expect(get.request?.["signal"]).toBeInstanceOf(AbortSignal);
    expect(get.request).not.toHaveProperty("retries");
    expect(post.request?.["retries"]).toBe(0);
  });

  it("a repeated attempt after a 5xx waits the backoff, growing with each retry", async () => {
    const { p, sleeps } = pacing({ retryBaseMs: 100 });
    const o = opts();
    for (let i = 0; i < 3; i++) await expect(p.attempt(failing(502), o, NAMES)).rejects.toThrow();
    await p.attempt(ok(), o, NAMES);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("a rate limit the handler retries: the next attempt waits what GitHub asked; past maxWaitMs a verdict instead", async () => {
    const { p, sleeps } = pacing({ maxWaitMs: 60_000 });
    const o = opts();
    await expect(p.attempt(failing(403, { "retry-after": "7" }), o, NAMES)).rejects.toThrow();
    expect(p.rateLimitHandler("secondary")(7, o, undefined, 0)).toBe(true);
    await p.attempt(ok(), o, NAMES);
    expect(sleeps).toEqual([7000]);

    const far = opts();
    const reset = NOW / 1000 + 3600;
    await expect(p.attempt(failing(403, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }), far, NAMES)).rejects.toThrow();
    expect(p.rateLimitHandler("primary")(3600, far, undefined, 0)).toBe(false);
    expect(p.verdictOf(far)).toMatchObject({ limit: "primary", resetAt: new Date(reset * 1000) });
    expect(p.verdictOf(far)?.why).toMatch(/more than the 60 s the client waits/);
  });

  it("a success with remaining 0 makes the next attempt wait for the reset; beyond maxWaitMs it refuses without a request", async () => {
    const { p, sleeps } = pacing({ maxWaitMs: 60_000 });
    await p.attempt(ok({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 30) }), opts(), NAMES);
    await p.attempt(ok(), opts(), NAMES);
    expect(sleeps).toEqual([30_250]);

    const later = pacing({ maxWaitMs: 60_000 });
    await later.p.attempt(ok({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(NOW / 1000 + 600) }), opts(), NAMES);
    const e = await later.p.attempt(ok(), opts(), NAMES).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitHubRateLimitError);
    expect((e as Error).message).toContain("GET /repos/corp/news/pulls/7");
    expect(later.p.requestCount).toBe(1);
  });
});

describe("request names", () => {
  const api = new URL("https://ghe.corp.example/api/v3");
  const expand = (o: { url?: unknown }) => ({ ...o, url: String(o.url).replace("{owner}/{repo}", "corp/news").replace("{pull_number}", "7") });

  it("route from the template, shown as sent; an absolute URL loses the API prefix and query", () => {
    expect(requestNames({ method: "get", url: "/repos/{owner}/{repo}/pulls/{pull_number}" }, api, expand)).toEqual({
      route: "GET /repos/{owner}/{repo}/pulls/{pull_number}",
      shown: "GET /repos/corp/news/pulls/7",
    });
    const next = { method: "GET", url: "https://ghe.corp.example/api/v3/repos/corp/news/pulls/7/reviews?page=2", request: { ghRoute: "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews" } };
    expect(requestNames(next, api, (o) => o)).toEqual({ route: next.request.ghRoute, shown: "GET /repos/corp/news/pulls/7/reviews" });
  });

  it("a request octokit cannot expand is shown by its route", () => {
    const names = requestNames({ method: "GET", url: "/x/{y}" }, api, () => {
      throw new Error("cannot expand");
    });
    expect(names.shown).toBe("GET /x/{y}");
  });
});

describe("pagination helpers", () => {
  it("follows links only to the API's own origin and path prefix", () => {
    const api = new URL("https://ghe.corp.example/api/v3");
    expect(sameApi(api, "https://ghe.corp.example/api/v3/repos/x?page=2")).toBe(true);
    expect(sameApi(api, "https://ghe.corp.example/other/repos/x?page=2")).toBe(false);
    expect(sameApi(api, "https://evil.example/api/v3/repos/x")).toBe(false);
    expect(sameApi(api, "not a url")).toBe(false);
  });

  it("reads a relation among several, quoted or not, and a comma inside a URL", () => {
    expect(linkRel('<https://a.example/x?page=9>; rel="last", <https://a.example/x?a=1,2&page=2>; rel=next', "next")).toBe("https://a.example/x?a=1,2&page=2");
    expect(linkRel('<https://a.example/x?page=9>; rel="next last"', "last")).toBe("https://a.example/x?page=9");
  });
});

describe("one error mapping", () => {
  const request = { route: "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", shown: "GET /repos/corp/news/pulls/7/reviews" };
  const httpError = (status: number, headers: Record<string, string> = {}) =>
    Object.assign(new Error(`HttpError ${TOKEN}`), { status, response: { status, headers: { "x-github-request-id": "ABC:1", ...headers }, data: { message: `nope ${TOKEN}` } } });

  const cases: Array<{ name: string; error: unknown; rateLimit?: { limit: "primary" | "secondary"; why: string }; cls: Function; kind: string; status: number | null; api: string; gate: string }> = [
    { name: "404", error: httpError(404), cls: GitHubNotFoundError, kind: "not-found", status: 404, api: "not-found", gate: "not-found" },
    { name: "502", error: httpError(502), cls: GitHubApiError, kind: "http", status: 502, api: "api", gate: "api" },
    { name: "403 permission", error: httpError(403), cls: GitHubApiError, kind: "http", status: 403, api: "api", gate: "api" },
    { name: "no response", error: Object.assign(new Error("connect ECONNREFUSED"), { status: 500 }), cls: GitHubApiError, kind: "network", status: null, api: "api", gate: "api" },
    {
      name: "rate limit given up",
      error: httpError(429, { "retry-after": "600" }),
      rateLimit: { limit: "secondary", why: "secondary rate limit; GitHub asks to wait 600 s" },
      cls: GitHubRateLimitError,
      kind: "rate-limited",
      status: 429,
      api: "api",
      gate: "api",
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.kind}; to a command: ${c.api}; the gate's adapter and guard agree`, async () => {
      const e = toGitHubError(c.error, { ...request, rateLimit: c.rateLimit }, describeIt);
      expect(e).toBeInstanceOf(c.cls);
      expect(e).toMatchObject({ kind: c.kind, status: c.status, route: request.route });
      expect(e.message).toContain(request.shown);
      expect(e.message).not.toContain(TOKEN);
      expect(apiFailureKind(e)).toBe(c.api);
      expect(gateErrorOf("reviews(7)", e)).toMatchObject({ kind: c.gate, operation: "reviews(7)" });
      await expect(guardCall("reviews(7)", () => Promise.reject(e))).rejects.toMatchObject({ kind: c.gate, operation: "reviews(7)" });
    });
  }

  it("truncated and invalid-response keep their meaning; a client error passes through; anything else is the gate's 'port'", () => {
    const truncated = new GitHubTruncatedError("cut", { status: 200, route: request.route, reason: "documented-cap", received: 250, limit: 250 });
    expect(toGitHubError(truncated, request, describeIt)).toBe(truncated);
    expect(apiFailureKind(truncated)).toBe("truncated");
    expect(apiFailureKind(new GitHubApiError("odd", { status: 200, route: request.route }, "invalid-response"))).toBe("invalid-response");
    expect(apiFailureKind(new Error("socket hang up"))).toBeUndefined();
    expect(gateErrorOf("branchRules(main)", new Error("socket hang up"))).toMatchObject({ kind: "port" });
    const own = new GateError("not-found", "no push", { operation: "lastPushAt(7)" });
    expect(gateErrorOf("other", own)).toBe(own);
  });
});
