/**
 * Typed errors of the GitHub REST client (client.ts), and the one mapping
 * from an HTTP/octokit failure to them (`toGitHubError`). Callers branch on
 * the class or on `kind`, never on message text. These are adapter errors,
 * not NewsletterErrors: what a kind means to a command is mapped once more,
 * in one place, by `apiFailureKind` (src/errors.ts), which the gate and setup
 * adapters and the gate's port guard all use (docs/design.md, "Layers").
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

/** A response's headers as octokit hands them over (lowercase names). */
export interface ResponseHeaders {
  [name: string]: string | number | undefined;
}

export function header(headers: ResponseHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return v === undefined ? undefined : String(v);
}

/** The message of every client error: the request as sent, what happened, GitHub's request id; the token redacted. */
export type Describe = (shown: string, status: number | null, requestId: string | undefined, detail?: string) => string;

export function describer(token: string): Describe {
  const redact = (text: string): string => (token.length >= 4 ? text.split(token).join("[REDACTED]") : text);
  return (shown, status, requestId, detail) => {
    const what = status === null ? "no response" : `HTTP ${status}`;
    return redact(`GitHub API ${shown}: ${what}${detail ? ` (${detail})` : ""}${requestId ? ` [x-github-request-id ${requestId}]` : ""}`);
  };
}

/** A rate limit the client gave up on (src/github/pacing.ts): which limit, why, and when it lifts. */
export interface RateLimitVerdict {
  readonly limit: "primary" | "secondary";
  readonly why: string;
  readonly resetAt?: Date | undefined;
}

/** The GitHub error message of a response body, if it has one (shown, never branched on). */
function githubMessage(data: unknown): string | undefined {
  if (typeof data === "object" && data !== null && "message" in data) {
    const m = (data as { message: unknown }).message;
    if (typeof m === "string") return m.slice(0, 300);
  }
  return undefined;
}

/**
 * The one mapping from what octokit threw to a GitHubApiError: no response →
 * "network"; 404 → GitHubNotFoundError; a rate limit the client gave up on
 * (`rateLimit`) → GitHubRateLimitError; any other status → "http". An error
 * the client built itself passes through.
 */
export function toGitHubError(
  e: unknown,
  request: { route: string; shown: string; rateLimit?: RateLimitVerdict | undefined },
  describe: Describe,
): GitHubApiError {
  if (e instanceof GitHubApiError) return e;
  const { route, shown, rateLimit } = request;
  const err = e as { status?: unknown; response?: { headers?: ResponseHeaders; data?: unknown }; message?: unknown };
  const response = err.response;
  if (!response) {
    const detail = typeof err.message === "string" ? err.message : String(e);
    return new GitHubApiError(describe(shown, null, undefined, detail), { status: null, route, cause: e });
  }
  const status = typeof err.status === "number" ? err.status : 0;
  const requestId = header(response.headers, "x-github-request-id");
  const details: GitHubErrorDetails = { status, route, requestId, cause: e };
  if (rateLimit) {
    return new GitHubRateLimitError(describe(shown, status, requestId, rateLimit.why), { ...details, limit: rateLimit.limit, resetAt: rateLimit.resetAt });
  }
  const message = describe(shown, status, requestId, githubMessage(response.data));
  return status === 404 ? new GitHubNotFoundError(message, details) : new GitHubApiError(message, details);
}
