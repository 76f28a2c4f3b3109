/**
 * The GitHub REST client: @octokit/rest with the retry and throttling
 * plugins (octokit.ts), the waits and bounds they are given (pacing.ts,
 * retry-policy.ts), pagination that fails closed (paginate.ts), and one
 * error mapping (errors.ts). docs/design.md, "The GitHub client".
 *
 * Every attempt counts in `requestCount`. The token is never logged: the
 * Octokit logger is silenced, and error messages are built by the client,
 * with the token redacted.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Octokit } from "@octokit/rest";
import { UsageError } from "../errors.ts";
import { describer } from "./errors.ts";
import { buildOctokit } from "./octokit.ts";
import { RequestPacing } from "./pacing.ts";
import { createPaginator, type ListPage, type PaginateOptions, type RequestParams } from "./paginate.ts";

export { API_VERSION } from "./pacing.ts";
export { DOCUMENTED_CAPS, MAX_PER_PAGE, linkRel, nextLink, type ListPage, type PaginateOptions, type RequestParams } from "./paginate.ts";

export const DEFAULT_API_URL = "https://api.github.com";

export interface GitHubClientOptions {
  /** GITHUB_TOKEN or an App token. Sent as `authorization`, never logged or put in messages. */
  token: string;
  /** `owner/name` (GITHUB_REPOSITORY). */
  repo: string;
  /** GITHUB_API_URL; default https://api.github.com. A GHES URL ends in /api/v3. */
  apiUrl?: string | undefined;
  userAgent?: string;
  /** Retries after a 5xx or network error (idempotent methods). Default 3. */
  retries?: number;
  /** Retries after a rate-limit response. Default 3. */
  rateLimitRetries?: number;
  /** The longest single wait for a rate limit; a longer one throws GitHubRateLimitError. Default 120 s. */
  maxWaitMs?: number;
  /** First backoff after a 5xx or network error; doubles each retry (with jitter), at most 30 s. Default 1 s. */
  retryBaseMs?: number;
  /** Per-attempt timeout. Default 30 s. */
  timeoutMs?: number;
  /** For tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  fetch?: typeof globalThis.fetch;
}

export interface GitHubClient {
  readonly owner: string;
  readonly repo: string;
  /** The API base URL in use, without a trailing slash. */
  readonly apiUrl: string;
  /** The configured Octokit (plugins and hooks installed): use its typed `rest.*` methods for single requests. */
  readonly octokit: Octokit;
  /** HTTP requests made so far, retries included. */
  readonly requestCount: number;
  /** `{ owner, repo }`, to spread into request parameters. */
  readonly repoParams: { owner: string; repo: string };
  /**
   * Every item of a list endpoint, `per_page=100`, following `rel="next"` to
   * the end. `route` is `"GET /path/{template}"`. Lists wrapped in an object
   * (`{ total_count, check_suites: [...] }`) are unwrapped and checked against
   * `total_count`. Throws GitHubTruncatedError when the list is or may be cut.
   */
  paginate<T>(route: string, params?: RequestParams, options?: PaginateOptions): Promise<T[]>;
  /**
   * The first page of a list endpoint (`per_page=100`), and how much is left,
   * so a caller can decide by request count whether to read the rest or ask
   * another, narrower question. `all()` continues exactly as `paginate` (same
   * checks, the first page is not fetched again).
   */
  firstPage<T>(route: string, params?: RequestParams, options?: PaginateOptions): Promise<ListPage<T>>;
}

export function parseRepo(repo: string): { owner: string; name: string } {
  const m = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repo.trim());
  if (!m || !m[1] || !m[2]) throw new UsageError(`GITHUB_REPOSITORY must be "owner/name", got ${JSON.stringify(repo)}`);
  return { owner: m[1], name: m[2] };
}

/**
 * The client's inputs from the environment as the Actions runner sets it
 * (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL). Missing ones → UsageError.
 */
export function gitHubClientOptionsFromEnv(env: NodeJS.ProcessEnv): Pick<GitHubClientOptions, "token" | "repo" | "apiUrl"> {
  const token = env["GITHUB_TOKEN"];
  const repo = env["GITHUB_REPOSITORY"];
  if (!token) throw new UsageError("GITHUB_TOKEN is not set: the gate needs a token that can read the repository");
  if (!repo) throw new UsageError("GITHUB_REPOSITORY is not set (owner/name)");
  return { token, repo, apiUrl: env["GITHUB_API_URL"] || DEFAULT_API_URL };
}

/** The pacing of `options`, defaults filled in. */
function pacingOf(options: GitHubClientOptions, describe: ReturnType<typeof describer>): RequestPacing {
  return new RequestPacing(
    {
      retries: options.retries ?? 3,
      rateLimitRetries: options.rateLimitRetries ?? 3,
      maxWaitMs: options.maxWaitMs ?? 120_000,
      retryBaseMs: options.retryBaseMs ?? 1000,
      timeoutMs: options.timeoutMs ?? 30_000,
      sleep: options.sleep ?? ((ms: number) => delay(ms)),
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    },
    describe,
  );
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { owner, name } = parseRepo(options.repo);
  const apiUrl = (options.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const describe = describer(options.token);
  const pacing = pacingOf(options, describe);
  const settings = { token: options.token, apiUrl, userAgent: options.userAgent ?? "gitops-newsletter", retries: options.retries ?? 3, fetch: options.fetch };
  const octokit = buildOctokit(settings, pacing, describe);
  const { paginate, firstPage } = createPaginator(octokit, new URL(apiUrl), describe);
  return {
    owner,
    repo: name,
    apiUrl,
    octokit,
    get requestCount() {
      return pacing.requestCount;
    },
    repoParams: { owner, repo: name },
    paginate,
    firstPage,
  };
}
