/**
 * How long the GitHub client waits before it repeats a request, and which
 * requests may be repeated: pure rules, no clock of their own. Whether a
 * failure is retried at all is decided by `@octokit/plugin-retry` (5xx and
 * no response) and `@octokit/plugin-throttling` (rate limits), configured in
 * octokit.ts; these rules give them our bounds (docs/design.md, "The GitHub
 * client").
 *
 * What GitHub documents ("Rate limits for the REST API", "Exceeding the rate
 * limit"), and what is done with it:
 *
 * - Primary limit: a 403 or 429 with `x-ratelimit-remaining: 0` must not be
 *   retried "until after the time specified by the x-ratelimit-reset header"
 *   (UTC epoch seconds): wait until then, plus 250 ms.
 * - Secondary limit: "If the retry-after response header is present, you
 *   should not retry your request until after that many seconds has
 *   elapsed. Otherwise, wait for at least one minute before retrying ... wait
 *   for an exponentially increasing amount of time between retries, and
 *   throw an error after a specific number of retries": retry-after, else one
 *   minute doubling per retry.
 * - 5xx and no response: retried only for idempotent methods (GET, HEAD, PUT,
 *   DELETE, OPTIONS), or a call marked `request: { idempotent: true }`; a POST
 *   or PATCH that may have been applied is not repeated. Backoff doubles from
 *   `retryBaseMs` with jitter, at most 30 s; a retry-after GitHub sends wins.
 */
import { header, type ResponseHeaders } from "./errors.ts";

export interface RetryPolicy {
  /** Retries after a 5xx or no response (idempotent methods). */
  readonly retries: number;
  /** Retries after a rate-limit response. */
  readonly rateLimitRetries: number;
  /** The longest single wait; a longer one gives up with GitHubRateLimitError. */
  readonly maxWaitMs: number;
  /** First backoff after a 5xx or no response; doubles each retry (with jitter), at most 30 s. */
  readonly retryBaseMs: number;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/**
 * Statuses worth repeating: 500, 502, 503, 504 (a 501 or a 599 will not heal).
 * @octokit/request reports "no response" (refused, reset, timed out) as 500.
 */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/**
 * @octokit/plugin-retry repeats every status >= 400 not on its `doNotRetry`
 * list: so the list is every other 4xx and 5xx. 403 and 429 are rate limits
 * (plugin-throttling's) or final.
 */
export const DO_NOT_RETRY: readonly number[] = Array.from({ length: 200 }, (_, i) => 400 + i).filter((s) => !RETRYABLE_STATUS.has(s));

const SECONDARY_DEFAULT_WAIT_MS = 60_000;
/** After x-ratelimit-reset, so the retry lands in the new window. */
const RESET_MARGIN_MS = 250;

export function isIdempotent(method: string, request: { readonly [key: string]: unknown } | undefined): boolean {
  return IDEMPOTENT.has(method.toUpperCase()) || request?.["idempotent"] === true;
}

/** The wait before retry `attempt` (0-based) after a 5xx or no response. */
export function serverErrorWait(policy: RetryPolicy, headers: ResponseHeaders | undefined, attempt: number, random: () => number): number {
  const retryAfter = Number(header(headers, "retry-after"));
  if (Number.isFinite(retryAfter) && retryAfter * 1000 <= policy.maxWaitMs) return retryAfter * 1000;
  const base = Math.min(policy.retryBaseMs * 2 ** attempt, 30_000);
  return Math.round(base / 2 + (base / 2) * random());
}

export interface RateLimitWait {
  readonly ms: number;
  readonly resetAt?: Date | undefined;
}

/** The wait before retry `attempt` (0-based) after a rate-limit response, per "Exceeding the rate limit". */
export function rateLimitWait(headers: ResponseHeaders | undefined, attempt: number, now: number): RateLimitWait {
  const retryAfter = header(headers, "retry-after");
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return { ms: Math.max(0, ms), resetAt: new Date(now + Math.max(0, ms)) };
  }
  const until = exhaustedUntil(headers);
  if (until !== undefined) return { ms: Math.max(0, until - now) + RESET_MARGIN_MS, resetAt: new Date(until) };
  return { ms: SECONDARY_DEFAULT_WAIT_MS * 2 ** attempt };
}

/** Why the client gives up on a rate limit, or undefined when it waits and retries. */
export function giveUpReason(policy: RetryPolicy, limit: "primary" | "secondary", wait: RateLimitWait, attempt: number): string | undefined {
  if (wait.ms > policy.maxWaitMs) {
    return `${limit} rate limit; GitHub asks to wait ${Math.ceil(wait.ms / 1000)} s, more than the ${Math.round(policy.maxWaitMs / 1000)} s the client waits`;
  }
  if (attempt >= policy.rateLimitRetries) return `${limit} rate limit persisted through ${policy.rateLimitRetries} retries`;
  return undefined;
}

/** Epoch ms until which a response says the primary limit is spent (`x-ratelimit-remaining: 0`), if it says. */
export function exhaustedUntil(headers: ResponseHeaders | undefined): number | undefined {
  if (header(headers, "x-ratelimit-remaining") !== "0") return undefined;
  const reset = Number(header(headers, "x-ratelimit-reset"));
  return Number.isFinite(reset) ? reset * 1000 : undefined;
}
