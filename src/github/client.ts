/**
 * A small GitHub REST client on @octokit/rest: pagination that fails closed,
 * bounded retries, and throttling that follows GitHub's rate-limit headers.
 * The retry/throttling plugins are not used (not installed, and larger than
 * what is needed here): one `request` hook does it all. Pagination is our
 * own loop rather than `octokit.paginate`, which turns a 409 into an empty
 * list and has no page cap; a gate must not mistake either for "complete".
 *
 * What GitHub documents, and what the client does with it:
 *
 * - Pagination ("Using pagination in the REST API"): a paginated response
 *   carries a `link` header with the URL of the next page marked
 *   `rel="next"`; it is omitted when everything fits on one page; `per_page`
 *   goes up to 100. The client asks for 100 and follows `rel="next"` to the
 *   end, or to `maxPages`, past which it throws GitHubTruncatedError rather
 *   than return a prefix. It only follows links to the API's own origin and
 *   path prefix, so a bad link can never carry the token elsewhere.
 * - Documented caps: "List commits on a pull request" lists "a maximum of 250
 *   commits"; "List pull requests files": "Responses include a maximum of
 *   3000 files". At or above the cap the list may be cut, so the client
 *   throws GitHubTruncatedError (DOCUMENTED_CAPS). Lists wrapped with a
 *   `total_count` are checked against it.
 * - Primary rate limit ("Rate limits for the REST API", "Exceeding the rate
 *   limit"): a 403 or 429 with `x-ratelimit-remaining: 0` must not be retried
 *   "until after the time specified by the x-ratelimit-reset header" (UTC
 *   epoch seconds). The client waits that long when it is within `maxWaitMs`
 *   and throws GitHubRateLimitError otherwise. A successful response with
 *   `x-ratelimit-remaining: 0` makes the NEXT request wait the same way,
 *   instead of spending one request on a sure 403.
 * - Secondary rate limits (same page): a 403 or 429 with `retry-after`:
 *   "you should not retry your request until after that many seconds has
 *   elapsed"; "Otherwise, wait for at least one minute before retrying ...
 *   wait for an exponentially increasing amount of time between retries, and
 *   throw an error after a specific number of retries". Honoured for 429;
 *   a 403 with neither header is indistinguishable from a permission error
 *   without reading the message text, so it fails at once (fail closed; a
 *   re-run retries). The same page advises "Make requests serially instead of
 *   concurrently": the client runs one request at a time.
 * - 5xx and network errors: retried `retries` times with exponential backoff
 *   and jitter, for idempotent methods only (GET, HEAD, PUT, DELETE, OPTIONS);
 *   a POST or PATCH that may have been applied is not repeated unless the
 *   call says it is safe (`request: { idempotent: true }`).
 *
 * Every attempt counts in `requestCount`. The token is never logged: the
 * Octokit logger is silenced (its request log prints options at debug level),
 * and error messages are built here, with the token redacted.
 */
import { setTimeout as delay } from "node:timers/promises";
import { Octokit } from "@octokit/rest";
import { UsageError } from "../errors.ts";
import {
  GitHubApiError,
  GitHubNotFoundError,
  GitHubRateLimitError,
  GitHubTruncatedError,
  type GitHubErrorDetails,
} from "./errors.ts";

export const DEFAULT_API_URL = "https://api.github.com";
export const API_VERSION = "2022-11-28";

/**
 * Lists GitHub documents as capped. Reaching the cap means the list may be
 * cut short, so it is refused (`count >= cap`).
 */
export const DOCUMENTED_CAPS: Readonly<Record<string, number>> = {
  // REST "List commits on a pull request": "Lists a maximum of 250 commits for a pull request."
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits": 250,
  // REST "List pull requests files": "Responses include a maximum of 3000 files."
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/files": 3000,
};

/** "per_page ... (max 100)" (REST parameter description, "Using pagination in the REST API"). */
export const MAX_PER_PAGE = 100;

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

export interface PaginateOptions {
  /** Most pages to fetch (of 100). More pages → GitHubTruncatedError. Default 30 (3000 items). */
  maxPages?: number;
  /** GitHub's documented item cap for this list, if not in DOCUMENTED_CAPS. */
  documentedCap?: number;
}

export type RequestParams = Record<string, unknown>;

export interface GitHubClient {
  readonly owner: string;
  readonly repo: string;
  /** The API base URL in use, without a trailing slash. */
  readonly apiUrl: string;
  /** The configured Octokit (hooks installed): use its typed `rest.*` methods for single requests. */
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

export interface ListPage<T> {
  /** The items of the first page. */
  readonly items: readonly T[];
  /** True when the first page holds the whole list (no `rel="next"` link). */
  readonly complete: boolean;
  /**
   * Pages after the first: 0 when complete; from the `rel="last"` link's `page`
   * parameter otherwise; undefined when GitHub gave no usable `rel="last"`
   * (some lists paginate by cursor and have none).
   */
  readonly remainingPages: number | undefined;
  /** Every item of the list, following `rel="next"` to the end; memoised. */
  all(): Promise<T[]>;
}

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const SECONDARY_DEFAULT_WAIT_MS = 60_000;

interface Headers {
  [name: string]: string | number | undefined;
}

/**
 * The `rel="next"` URL of a `link` header (RFC 8288: `<url>; rel="next", <url>; rel="last"`).
 * URLs are read between angle brackets, so a comma inside one does not split it.
 */
export function nextLink(link: string | undefined): string | undefined {
  return linkRel(link, "next");
}

/** The URL of relation `want` (`next`, `last`, ...) in a `link` header. */
export function linkRel(link: string | undefined, want: string): string | undefined {
  if (!link) return undefined;
  for (const m of link.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]*)*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2] ?? "");
    const rels = (rel?.[1] ?? rel?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes(want)) return m[1];
  }
  return undefined;
}

/** The `page` query parameter of a pagination URL, if it is a positive integer. */
function pageOf(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  try {
    const page = Number(new URL(url).searchParams.get("page"));
    return Number.isSafeInteger(page) && page >= 1 ? page : undefined;
  } catch {
    return undefined;
  }
}

function header(headers: Headers | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return v === undefined ? undefined : String(v);
}

function parseRepo(repo: string): { owner: string; name: string } {
  const m = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repo.trim());
  if (!m || !m[1] || !m[2]) throw new UsageError(`GITHUB_REPOSITORY must be "owner/name", got ${JSON.stringify(repo)}`);
  return { owner: m[1], name: m[2] };
}

/**
 * The client's inputs from the environment as the Actions runner sets it
 * (GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL). Missing ones → UsageError.
 */
export function gitHubClientOptionsFromEnv(
  env: NodeJS.ProcessEnv,
): Pick<GitHubClientOptions, "token" | "repo" | "apiUrl"> {
  const token = env["GITHUB_TOKEN"];
  const repo = env["GITHUB_REPOSITORY"];
  if (!token) throw new UsageError("GITHUB_TOKEN is not set: the gate needs a token that can read the repository");
  if (!repo) throw new UsageError("GITHUB_REPOSITORY is not set (owner/name)");
  return { token, repo, apiUrl: env["GITHUB_API_URL"] || DEFAULT_API_URL };
}

export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const { owner, name } = parseRepo(options.repo);
  const apiUrl = (options.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const api = new URL(apiUrl);
  const retries = options.retries ?? 3;
  const rateLimitRetries = options.rateLimitRetries ?? 3;
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const retryBaseMs = options.retryBaseMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const token = options.token;

  const redact = (text: string): string => (token.length >= 4 ? text.split(token).join("[REDACTED]") : text);

  const silent = (): void => undefined;
  const octokit = new Octokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: options.userAgent ?? "gitops-newsletter",
    log: { debug: silent, info: silent, warn: silent, error: silent },
    request: options.fetch ? { fetch: options.fetch } : {},
  });

  let requestCount = 0;
  /** Epoch ms before which the primary limit is known to be exhausted (a 2xx said remaining 0). */
  let blockedUntil = 0;
  let blockedRoute = "";
  let tail: Promise<unknown> = Promise.resolve();

  function serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  }

  function routeOf(options: { method?: unknown; url?: unknown; request?: { [key: string]: unknown } | undefined }): string {
    const label = options.request?.["ghRoute"];
    if (typeof label === "string") return label;
    const method = String(options.method ?? "GET").toUpperCase();
    let url = String(options.url ?? "");
    if (/^https?:/i.test(url)) {
      const u = new URL(url);
      url = u.pathname.startsWith(api.pathname) && api.pathname !== "/" ? u.pathname.slice(api.pathname.length) : u.pathname;
    }
    return `${method} ${url.split("?")[0]}`;
  }

  /**
   * `METHOD /repos/corp/news/pulls/7/reviews`: the request as sent, without
   * its query, for messages people read (a route template such as
   * `{owner}/{repo}` says nothing about which repository was asked).
   */
  function shownPath(parsed: { method?: unknown; url?: unknown }, fallback: string): string {
    const method = String(parsed.method ?? "GET").toUpperCase();
    const url = String(parsed.url ?? "");
    if (!url) return fallback;
    let p = url;
    if (/^https?:/i.test(url)) {
      const u = new URL(url);
      p = u.pathname.startsWith(api.pathname) && api.pathname !== "/" ? u.pathname.slice(api.pathname.length) : u.pathname;
    }
    return `${method} ${p.split("?")[0]}`;
  }

  function describe(route: string, status: number | null, requestId: string | undefined, detail?: string): string {
    const what = status === null ? "no response" : `HTTP ${status}`;
    return redact(
      `GitHub API ${route}: ${what}${detail ? ` (${detail})` : ""}${requestId ? ` [x-github-request-id ${requestId}]` : ""}`,
    );
  }

  /** The GitHub error message of a response body, if it has one (shown, never branched on). */
  function githubMessage(data: unknown): string | undefined {
    if (typeof data === "object" && data !== null && "message" in data) {
      const m = (data as { message: unknown }).message;
      if (typeof m === "string") return m.slice(0, 300);
    }
    return undefined;
  }

  function toError(e: unknown, route: string, shown: string): GitHubApiError {
    if (e instanceof GitHubApiError) return e;
    const err = e as { status?: unknown; response?: { headers?: Headers; data?: unknown }; message?: unknown };
    const response = err.response;
    const requestId = header(response?.headers, "x-github-request-id");
    if (!response) {
      const detail = typeof err.message === "string" ? err.message : String(e);
      return new GitHubApiError(describe(shown, null, undefined, detail), { status: null, route, cause: e });
    }
    const status = typeof err.status === "number" ? err.status : 0;
    const details: GitHubErrorDetails = { status, route, requestId, cause: e };
    const message = describe(shown, status, requestId, githubMessage(response.data));
    return status === 404 ? new GitHubNotFoundError(message, details) : new GitHubApiError(message, details);
  }

  /**
   * How long GitHub asks us to wait before retrying, per "Exceeding the rate
   * limit", or null when the response is not a recognisable rate limit.
   */
  function rateLimitWait(
    status: number,
    headers: Headers | undefined,
    attempt: number,
  ): { ms: number; limit: "primary" | "secondary"; resetAt?: Date } | null {
    if (status !== 403 && status !== 429) return null;
    const retryAfter = header(headers, "retry-after");
    if (retryAfter !== undefined) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now();
      if (Number.isFinite(ms)) {
        const wait = Math.max(0, ms);
        return { ms: wait, limit: "secondary", resetAt: new Date(now() + wait) };
      }
    }
    if (header(headers, "x-ratelimit-remaining") === "0") {
      const reset = Number(header(headers, "x-ratelimit-reset"));
      if (Number.isFinite(reset)) {
        return { ms: Math.max(0, reset * 1000 - now()) + 250, limit: "primary", resetAt: new Date(reset * 1000) };
      }
    }
    if (status === 429) return { ms: SECONDARY_DEFAULT_WAIT_MS * 2 ** attempt, limit: "secondary" };
    return null;
  }

  function noteRateLimit(headers: Headers | undefined, route: string): void {
    if (header(headers, "x-ratelimit-remaining") !== "0") return;
    const reset = Number(header(headers, "x-ratelimit-reset"));
    if (Number.isFinite(reset)) {
      blockedUntil = reset * 1000;
      blockedRoute = route;
    }
  }

  async function waitForPrimaryReset(route: string): Promise<void> {
    const wait = blockedUntil - now();
    if (wait <= 0) return;
    if (wait > maxWaitMs) {
      throw new GitHubRateLimitError(
        describe(
          route,
          null,
          undefined,
          `primary rate limit exhausted (seen on ${blockedRoute}); it resets at ${new Date(blockedUntil).toISOString()}, later than the ${Math.round(maxWaitMs / 1000)} s the client waits`,
        ),
        { status: null, route, limit: "primary", resetAt: new Date(blockedUntil) },
      );
    }
    await sleep(wait + 250);
  }

  function backoff(attempt: number): number {
    const base = Math.min(retryBaseMs * 2 ** attempt, 30_000);
    return Math.round(base / 2 + (base / 2) * random());
  }

  octokit.hook.wrap("request", (request, reqOptions) => {
    const route = routeOf(reqOptions);
    let shown = route;
    try {
      shown = shownPath(octokit.request.endpoint.parse(reqOptions), route);
    } catch {
      // A request Octokit cannot expand is named by its route.
    }
    const method = String(reqOptions.method).toUpperCase();
    const idempotent = IDEMPOTENT.has(method) || reqOptions.request?.["idempotent"] === true;
    return serial(async () => {
      let attempt = 0;
      let rateAttempt = 0;
      for (;;) {
        await waitForPrimaryReset(route);
        requestCount++;
        try {
          // before-after-hook hands every hook of the chain the same options object (the
          // argument given to `request` is ignored), so per-attempt settings are assigned to it.
          // Fresh objects, never mutations: `request` may be shared with Octokit's defaults.
          reqOptions.headers = {
            // "API Versions": "You should use the X-GitHub-Api-Version header to specify an API
            // version"; the one GitHub's OpenAPI description (and the test fake) describes.
            "x-github-api-version": API_VERSION,
            ...reqOptions.headers,
          };
          reqOptions.request = { ...reqOptions.request, signal: AbortSignal.timeout(timeoutMs) };
          const response = await request(reqOptions);
          noteRateLimit(response.headers as Headers, route);
          return response;
        } catch (e) {
          const err = e as { status?: unknown; response?: { headers?: Headers; data?: unknown } };
          const headers = err.response?.headers;
          const status = err.response && typeof err.status === "number" ? err.status : null;
          if (status !== null) {
            noteRateLimit(headers, route);
            const wait = rateLimitWait(status, headers, rateAttempt);
            if (wait) {
              // A rate-limited request was not processed: safe to repeat whatever the method.
              blockedUntil = 0;
              if (wait.ms > maxWaitMs || rateAttempt >= rateLimitRetries) {
                const why =
                  wait.ms > maxWaitMs
                    ? `${wait.limit} rate limit; GitHub asks to wait ${Math.ceil(wait.ms / 1000)} s, more than the ${Math.round(maxWaitMs / 1000)} s the client waits`
                    : `${wait.limit} rate limit persisted through ${rateLimitRetries} retries`;
                throw new GitHubRateLimitError(describe(shown, status, header(headers, "x-github-request-id"), why), {
                  status,
                  route,
                  requestId: header(headers, "x-github-request-id"),
                  cause: e,
                  limit: wait.limit,
                  resetAt: wait.resetAt,
                });
              }
              rateAttempt++;
              await sleep(wait.ms);
              continue;
            }
          }
          const retryable = status === null ? true : RETRYABLE_STATUS.has(status);
          if (retryable && idempotent && attempt < retries) {
            const retryAfter = Number(header(headers, "retry-after"));
            const ms = Number.isFinite(retryAfter) && retryAfter * 1000 <= maxWaitMs ? retryAfter * 1000 : backoff(attempt);
            attempt++;
            await sleep(ms);
            continue;
          }
          throw toError(e, route, shown);
        }
      }
    });
  });

  function listOf<T>(data: unknown, route: string, status: number): { items: T[]; totalCount?: number } {
    if (Array.isArray(data)) return { items: data as T[] };
    if (typeof data === "object" && data !== null) {
      const arrays = Object.entries(data).filter(([, v]) => Array.isArray(v));
      const total = (data as { total_count?: unknown }).total_count;
      if (arrays.length === 1 && arrays[0]) {
        return { items: arrays[0][1] as T[], ...(typeof total === "number" ? { totalCount: total } : {}) };
      }
    }
    throw new GitHubApiError(describe(route, status, undefined, "expected a list"), { status, route }, "invalid-response");
  }

  function sameApi(next: string): boolean {
    try {
      const u = new URL(next);
      const prefix = api.pathname.replace(/\/+$/, "");
      return u.origin === api.origin && (prefix === "" || u.pathname === prefix || u.pathname.startsWith(`${prefix}/`));
    } catch {
      return false;
    }
  }

  async function firstPage<T>(route: string, params: RequestParams = {}, opts: PaginateOptions = {}): Promise<ListPage<T>> {
    const maxPages = opts.maxPages ?? 30;
    const cap = opts.documentedCap ?? DOCUMENTED_CAPS[route];
    const label = route;
    const shown = shownPath(octokit.request.endpoint(route, params), route);
    const first = await octokit.request(route, { ...params, per_page: MAX_PER_PAGE, request: { ghRoute: label } });
    const firstList = listOf<T>(first.data, label, first.status);
    const firstLink = header(first.headers as Headers, "link");
    const firstNext = nextLink(firstLink);
    const lastPage = pageOf(linkRel(firstLink, "last"));

    let whole: Promise<T[]> | undefined;
    const all = async (): Promise<T[]> => {
      const items: T[] = [...firstList.items];
      let totalCount = firstList.totalCount;
      let response = first;
      let next = firstNext;
      let pages = 1;
      while (next !== undefined) {
        if (pages >= maxPages) {
          throw new GitHubTruncatedError(
            describe(shown, response.status, header(response.headers as Headers, "x-github-request-id"), `more than ${maxPages} pages of ${MAX_PER_PAGE}; refusing a partial list`),
            { status: response.status, route: label, reason: "page-cap", received: items.length, limit: maxPages },
          );
        }
        if (!sameApi(next)) {
          throw new GitHubApiError(
            describe(shown, response.status, undefined, "pagination link points outside the API; not followed"),
            { status: response.status, route: label },
            "invalid-response",
          );
        }
        response = await octokit.request({ method: "GET", url: next, request: { ghRoute: label } });
        pages++;
        const page = listOf<T>(response.data, label, response.status);
        items.push(...page.items);
        if (page.totalCount !== undefined) totalCount = page.totalCount;
        next = nextLink(header(response.headers as Headers, "link"));
      }
      if (cap !== undefined && items.length >= cap) {
        throw new GitHubTruncatedError(
          describe(shown, response.status, undefined, `${items.length} items reached GitHub's documented cap of ${cap}; the list may be cut short`),
          { status: response.status, route: label, reason: "documented-cap", received: items.length, limit: cap },
        );
      }
      if (totalCount !== undefined && items.length < totalCount) {
        throw new GitHubTruncatedError(
          describe(shown, response.status, undefined, `${items.length} items listed of total_count ${totalCount}`),
          { status: response.status, route: label, reason: "total-count", received: items.length, limit: totalCount },
        );
      }
      return items;
    };
    return {
      items: firstList.items,
      complete: firstNext === undefined,
      remainingPages: firstNext === undefined ? 0 : lastPage !== undefined && lastPage > 1 ? lastPage - 1 : undefined,
      all: () => (whole ??= all()),
    };
  }

  async function paginate<T>(route: string, params: RequestParams = {}, opts: PaginateOptions = {}): Promise<T[]> {
    return (await firstPage<T>(route, params, opts)).all();
  }

  return {
    owner,
    repo: name,
    apiUrl,
    octokit,
    get requestCount() {
      return requestCount;
    },
    repoParams: { owner, repo: name },
    paginate,
    firstPage,
  };
}
