/** What `gate` and `setup` tell people to check, by what went wrong (src/github/explain.ts). */
import { describe, expect, it } from "vitest";
import { GateError } from "../src/errors.ts";
import { GitHubApiError, GitHubNotFoundError, GitHubRateLimitError, GitHubTruncatedError } from "../src/github/errors.ts";
import { explainGitHubFailure } from "../src/github/explain.ts";

const ROUTE = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews";
const SENT = "GitHub API GET /repos/corp/news/pulls/7/reviews";
const settings = { repo: "corp/news", apiUrl: "https://ghe.corp.example/api/v3" };
const wrapped = (cause: Error) => new GateError("api", `reviews(7): ${cause.message}`, { cause, operation: "reviews(7)" });

describe("explainGitHubFailure", () => {
  const cases: Array<{ name: string; error: Error; purpose: "gate" | "setup"; says: RegExp }> = [
    { name: "404 (gate)", error: new GitHubNotFoundError(`${SENT}: HTTP 404 (Not Found)`, { status: 404, route: ROUTE }), purpose: "gate", says: /Check that GITHUB_REPOSITORY \(corp\/news\) names the repository of the pull request.*GITHUB_TOKEN may read it/ },
    { name: "404 (setup)", error: new GitHubNotFoundError(`${SENT}: HTTP 404 (Not Found)`, { status: 404, route: ROUTE }), purpose: "setup", says: /GITHUB_REPOSITORY \(corp\/news\) is right.*Administration: write/ },
    { name: "401", error: new GitHubApiError(`${SENT}: HTTP 401 (Bad credentials)`, { status: 401, route: ROUTE }), purpose: "gate", says: /GITHUB_TOKEN was not accepted/ },
    { name: "403 (gate)", error: new GitHubApiError(`${SENT}: HTTP 403`, { status: 403, route: ROUTE }), purpose: "gate", says: /GITHUB_TOKEN may not read this on GITHUB_REPOSITORY \(corp\/news\): it needs Contents, Pull requests/ },
    { name: "403 (setup)", error: new GitHubApiError(`${SENT}: HTTP 403`, { status: 403, route: ROUTE }), purpose: "setup", says: /Administration: write.*the workflow's GITHUB_TOKEN cannot/ },
    { name: "5xx", error: new GitHubApiError(`${SENT}: HTTP 502`, { status: 502, route: ROUTE }), purpose: "gate", says: /GitHub failed, also on retrying/ },
    { name: "no response", error: new GitHubApiError(`${SENT}: no response (ECONNREFUSED)`, { status: null, route: ROUTE }), purpose: "gate", says: /could not be reached: check the network and GITHUB_API_URL \(https:\/\/ghe\.corp\.example\/api\/v3\)/ },
    { name: "rate limit", error: new GitHubRateLimitError(`${SENT}: HTTP 403 (primary rate limit)`, { status: 403, route: ROUTE, limit: "primary" }), purpose: "gate", says: /rate limit ran out/ },
    { name: "truncated", error: new GitHubTruncatedError(`${SENT}: HTTP 200 (more than 30 pages)`, { status: 200, route: ROUTE, reason: "page-cap", received: 3000, limit: 30 }), purpose: "gate", says: /refuses rather than decide on part of it/ },
  ];
  for (const c of cases) {
    it(`${c.name}: the request as sent, what to check, no operation name`, () => {
      const text = explainGitHubFailure(wrapped(c.error), c.purpose, settings);
      expect(text).toMatch(new RegExp(`^(the gate could not decide|setup could not apply the ruleset)[^:]*: ${SENT.replace(/[/.]/g, "\\$&")}`));
      expect(text).toMatch(c.says);
      expect(text).not.toMatch(/reviews\(7\)|\{owner\}/);
    });
  }

  it("says nothing when no GitHub call is behind the error (the caller keeps its message)", () => {
    expect(explainGitHubFailure(new GateError("invalid-response", "malformed last-push time"), "gate", settings)).toBeUndefined();
  });
});
