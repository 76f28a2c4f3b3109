/**
 * What the retry plugins do not keep, per client: the request count, the
 * wait before each attempt, and the primary limit a success already said is
 * spent. Two entry points, both wired in octokit.ts:
 *
 * - `attempt` is the innermost request hook: it runs once per attempt,
 *   retries included, inside @octokit/plugin-retry and
 *   @octokit/plugin-throttling. It waits (through the injectable `sleep`),
 *   counts, sets the API version, the per-attempt timeout and how many times
 *   plugin-retry may repeat this method, then records the outcome.
 * - `rateLimitHandler` is plugin-throttling's `onRateLimit` /
 *   `onSecondaryRateLimit`: it decides whether to retry (a wait within
 *   `maxWaitMs`, retries left) and remembers the wait for `attempt`, or the
 *   reason for giving up for the error mapping (`verdictOf`).
 *
 * The plugins' own timers are set to zero (`retryAfterBaseValue: 0`): every
 * wait happens here, so it follows GitHub's headers to the millisecond, is
 * bounded by `maxWaitMs`, and can be observed in tests instead of slept.
 * Hand-written for that reason; docs/design.md, "The GitHub client".
 */
import { GitHubRateLimitError, type Describe, type RateLimitVerdict, type ResponseHeaders } from "./errors.ts";
import { exhaustedUntil, giveUpReason, isIdempotent, rateLimitWait, serverErrorWait, type RetryPolicy } from "./retry-policy.ts";
import type { RequestNames } from "./route.ts";

/** "API Versions": the version GitHub's OpenAPI description (and the test fake) describes. */
export const API_VERSION = "2022-11-28";

export interface PacingOptions extends RetryPolicy {
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random: () => number;
}

/** The options object octokit hands every hook of one request (the same object for each attempt). */
export interface HookOptions {
  method: string;
  url: string;
  headers: { [name: string]: unknown };
  request?: { [key: string]: unknown } | undefined;
  [key: string]: unknown;
}

interface RequestLog {
  /** The response headers of the last failed attempt (undefined: no response). */
  failed?: { headers: ResponseHeaders | undefined } | undefined;
  /** Set when plugin-throttling retries a rate limit: the wait before the next attempt. */
  rateLimitWaitMs?: number | undefined;
  /** Retries after a 5xx or no response so far (for the backoff). */
  serverRetries: number;
  /** Set when the client gave up on a rate limit. */
  verdict?: RateLimitVerdict | undefined;
}

export class RequestPacing {
  private count = 0;
  /** Epoch ms before which the primary limit is known to be spent (a response said remaining 0). */
  private blockedUntil = 0;
  private blockedOn = "";
  private readonly logs = new WeakMap<object, RequestLog>();

  constructor(
    private readonly o: PacingOptions,
    private readonly describe: Describe,
  ) {}

  /** HTTP requests made so far, retries included. */
  get requestCount(): number {
    return this.count;
  }

  /** Why the client gave up on a rate limit for this request, if it did. */
  verdictOf(options: object): RateLimitVerdict | undefined {
    return this.logs.get(options)?.verdict;
  }

  private logOf(options: object): RequestLog {
    let log = this.logs.get(options);
    if (!log) this.logs.set(options, (log = { serverRetries: 0 }));
    return log;
  }

  /** One attempt of a request; `names` names it for messages. */
  async attempt<R extends { headers: object }>(request: (options: HookOptions) => Promise<R>, options: HookOptions, names: () => RequestNames): Promise<R> {
    const log = this.logOf(options);
    await this.waitBeforeAttempt(log, names);
    this.count++;
    // before-after-hook hands every hook of the chain the same options object: per-attempt
    // settings are assigned to it, as fresh objects (`request` may be shared with defaults).
    // "API Versions": "You should use the X-GitHub-Api-Version header to specify an API version".
    options.headers = { "x-github-api-version": API_VERSION, ...options.headers };
    options.request = {
      ...options.request,
      signal: AbortSignal.timeout(this.o.timeoutMs),
      // plugin-retry's per-request count: a POST or PATCH that may have been applied is not
      // repeated. Set only to 0: plugin-retry repeats any failure whose request carries a
      // count of its own, past its `doNotRetry` list (a 404 would be asked 4 times).
      ...(isIdempotent(options.method, options.request) ? {} : { retries: 0 }),
    };
    try {
      const response = await request(options);
      this.noteExhausted(response.headers as ResponseHeaders, names);
      return response;
    } catch (e) {
      const headers = (e as { response?: { headers?: ResponseHeaders } }).response?.headers;
      this.noteExhausted(headers, names);
      log.failed = { headers };
      throw e;
    }
  }

  /** plugin-throttling's handler for `limit`: true retries (after the wait `attempt` then sleeps). */
  rateLimitHandler(limit: "primary" | "secondary") {
    return (_retryAfter: number, options: object, _octokit: unknown, retryCount: number): boolean => {
      const log = this.logOf(options);
      const wait = rateLimitWait(log.failed?.headers, retryCount, this.o.now());
      // A rate-limited request was not processed: safe to repeat whatever the method.
      this.blockedUntil = 0;
      const why = giveUpReason(this.o, limit, wait, retryCount);
      if (why !== undefined) {
        log.verdict = { limit, why, resetAt: wait.resetAt };
        return false;
      }
      log.rateLimitWaitMs = wait.ms;
      return true;
    };
  }

  private async waitBeforeAttempt(log: RequestLog, names: () => RequestNames): Promise<void> {
    if (log.rateLimitWaitMs !== undefined) {
      const ms = log.rateLimitWaitMs;
      log.rateLimitWaitMs = undefined;
      await this.o.sleep(ms);
    } else if (log.failed) {
      // Only plugin-retry repeats a request without a rate-limit verdict: a 5xx or no response.
      await this.o.sleep(serverErrorWait(this.o, log.failed.headers, log.serverRetries++, this.o.random));
    }
    await this.waitForPrimaryReset(names);
  }

  /** A response said the primary limit is spent: the next request waits for the reset instead of spending a sure 403. */
  private noteExhausted(headers: ResponseHeaders | undefined, names: () => RequestNames): void {
    const until = exhaustedUntil(headers);
    if (until === undefined) return;
    this.blockedUntil = until;
    this.blockedOn = names().shown;
  }

  private async waitForPrimaryReset(names: () => RequestNames): Promise<void> {
    const wait = this.blockedUntil - this.o.now();
    if (wait <= 0) return;
    if (wait > this.o.maxWaitMs) {
      const { route, shown } = names();
      const resetAt = new Date(this.blockedUntil);
      const why = `primary rate limit exhausted (seen on ${this.blockedOn}); it resets at ${resetAt.toISOString()}, later than the ${Math.round(this.o.maxWaitMs / 1000)} s the client waits`;
      throw new GitHubRateLimitError(this.describe(shown, null, undefined, why), { status: null, route, limit: "primary", resetAt });
    }
    await this.o.sleep(wait + 250);
  }
}
