/**
 * Typed errors of the GitHub REST client (client.ts). Callers branch on the
 * class or on `kind`, never on message text. These are adapter errors, not
 * NewsletterErrors: each entry point maps them to its own contract (the gate
 * adapter turns them into GateError, exit 2; a PR-comment step into its own).
 *
 * Messages name the route template and GitHub's request id (the
 * `x-github-request-id` response header, which GitHub Support asks for) and
 * never hold the token: the client redacts it from every message it builds,
 * and @octokit/request-error already redacts the `authorization` header of
 * the request it keeps as `cause`.
 */

export type GitHubErrorKind =
  /** GitHub answered with an error status (4xx other than 404 and rate limits, or 5xx after retries). */
  | "http"
  /** No HTTP response at all: connection refused or reset, DNS, TLS, timeout (after retries). */
  | "network"
  /** 404. */
  | "not-found"
  /** A primary or secondary rate limit whose wait is longer than allowed, or that persisted through the retries. */
  | "rate-limited"
  /** A list that is, or may be, cut short: GitHub's documented cap reached, or more pages than the caller allows. */
  | "truncated"
  /** A response the client refuses to use: a pagination link to another host, an unexpected list shape. */
  | "invalid-response";

export interface GitHubErrorDetails {
  /** HTTP status of the response that failed; null when there was none (network). */
  status: number | null;
  /** `METHOD /route/{template}` of the call, e.g. `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`. */
  route: string;
  /** `x-github-request-id` of the failed response, when there was one. */
  requestId?: string | undefined;
  cause?: unknown;
}

export class GitHubApiError extends Error {
  readonly kind: GitHubErrorKind;
  readonly status: number | null;
  readonly route: string;
  readonly requestId: string | undefined;
  constructor(message: string, details: GitHubErrorDetails, kind?: GitHubErrorKind) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.route = details.route;
    this.requestId = details.requestId;
    this.kind = kind ?? (details.status === null ? "network" : "http");
  }
}

/** 404: the resource does not exist, or the token may not see it (GitHub answers 404 for both). */
export class GitHubNotFoundError extends GitHubApiError {
  constructor(message: string, details: GitHubErrorDetails) {
    super(message, details, "not-found");
  }
}

/**
 * A rate limit the client would not wait out: the wait GitHub asks for is
 * longer than `maxWaitMs`, or the limit persisted through every retry.
 */
export class GitHubRateLimitError extends GitHubApiError {
  /** When GitHub said the limit lifts (x-ratelimit-reset or now + retry-after), if it said. */
  readonly resetAt: Date | undefined;
  /** "primary": x-ratelimit-remaining was 0; "secondary": retry-after or a bare 429. */
  readonly limit: "primary" | "secondary";
  constructor(
    message: string,
    details: GitHubErrorDetails & { resetAt?: Date | undefined; limit: "primary" | "secondary" },
  ) {
    super(message, details, "rate-limited");
    this.resetAt = details.resetAt;
    this.limit = details.limit;
  }
}

/**
 * A list the client will not return because it is, or may be, incomplete.
 * `reason` "documented-cap": GitHub's documentation caps this list (PR commits
 * at 250, PR files at 3000) and the count reached the cap; "total-count": the
 * response's `total_count` is larger than what the pages held; "page-cap":
 * more pages than the caller allowed.
 */
export class GitHubTruncatedError extends GitHubApiError {
  readonly reason: "documented-cap" | "total-count" | "page-cap";
  /** Items received before stopping. */
  readonly received: number;
  /** The cap that was hit: items for "documented-cap"/"total-count", pages for "page-cap". */
  readonly limit: number;
  constructor(
    message: string,
    details: GitHubErrorDetails & { reason: GitHubTruncatedError["reason"]; received: number; limit: number },
  ) {
    super(message, details, "truncated");
    this.reason = details.reason;
    this.received = details.received;
    this.limit = details.limit;
  }
}
