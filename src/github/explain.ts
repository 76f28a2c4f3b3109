/**
 * What a person should check when `gate` or `setup` fails on a GitHub API
 * call. The client's error names the request as sent (`GET
 * /repos/corp/news/pulls/7/reviews: HTTP 404`); this adds, by what went
 * wrong, which setting to look at: GITHUB_REPOSITORY, GITHUB_TOKEN's
 * permissions, GITHUB_API_URL. The port operation that failed (`reviews(7)`)
 * stays on the error as `operation`, for code, and out of the message.
 */
import { GitHubApiError } from "./errors.ts";

export type GitHubPurpose = "gate" | "setup";

export interface GitHubSettings {
  /** GITHUB_REPOSITORY as set. */
  readonly repo: string | undefined;
  /** GITHUB_API_URL as set (undefined: the default). */
  readonly apiUrl: string | undefined;
}

const LEAD: Record<GitHubPurpose, string> = {
  gate: "the gate could not decide, so it refuses (fail closed)",
  setup: "setup could not apply the ruleset",
};

/** The GitHub client's error behind `e` (its cause chain), if any. */
export function gitHubCause(e: unknown): GitHubApiError | undefined {
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 10; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof GitHubApiError) return c;
  }
  return undefined;
}

/** The message for people, or undefined when no GitHub API call is behind `e`. */
export function explainGitHubFailure(e: unknown, purpose: GitHubPurpose, settings: GitHubSettings): string | undefined {
  const api = gitHubCause(e);
  if (!api) return undefined;
  return `${LEAD[purpose]}: ${api.message}. ${hint(api, purpose, settings)}`;
}

function hint(api: GitHubApiError, purpose: GitHubPurpose, s: GitHubSettings): string {
  const repo = s.repo ? `GITHUB_REPOSITORY (${s.repo})` : "GITHUB_REPOSITORY";
  const apiUrl = s.apiUrl ? `GITHUB_API_URL (${s.apiUrl})` : "GITHUB_API_URL (unset: https://api.github.com)";
  const admin = `rulesets need a token that may administer the repository (repository permission "Administration: write", an admin's token or the GitHub App with that permission); the workflow's GITHUB_TOKEN cannot`;
  switch (api.kind) {
    case "not-found":
      return purpose === "gate"
        ? `Check that ${repo} names the repository of the pull request, that what was asked exists there, and that GITHUB_TOKEN may read it: GitHub answers 404 when the token cannot see it.`
        : `Check that ${repo} is right and that GITHUB_TOKEN may administer it (GitHub answers 404 when the token cannot see it): ${admin}.`;
    case "network":
      return `GitHub could not be reached: check the network and ${apiUrl}.`;
    case "rate-limited":
      return "GITHUB_TOKEN's rate limit ran out: run it again after the time above, or use a GitHub App token (its limit is higher).";
    case "truncated":
      return "A list was longer than GitHub returns in full; the gate refuses rather than decide on part of it. Ask an administrator to look at the pull request.";
    case "invalid-response":
      return `GitHub's answer was not what its API documents: check ${apiUrl}.`;
    case "http":
      if (api.status === 401) return "GITHUB_TOKEN was not accepted: it is missing a character, expired or revoked.";
      if (api.status === 403) {
        return purpose === "gate"
          ? `GITHUB_TOKEN may not read this on ${repo}: it needs Contents, Pull requests and Metadata: read (and Members: read on the organisation when stages are owned by teams).`
          : `GITHUB_TOKEN may not do this on ${repo}: ${admin}.`;
      }
      if (api.status !== null && api.status >= 500) return "GitHub failed, also on retrying: run it again later (https://www.githubstatus.com).";
      return "GitHub refused the request for the reason in parentheses.";
  }
}
