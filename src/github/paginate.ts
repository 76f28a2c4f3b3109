/**
 * Pagination that fails closed: a list is returned whole or not at all.
 * Hand-written because octokit's `paginate` (@octokit/plugin-paginate-rest)
 * is unsafe for a gate, where a list cut short changes the verdict (an
 * approval list missing the review that requests changes, a file list
 * missing the file outside `newsletters/`):
 *
 * - it turns a 409 on any page into an empty last page, so a prefix reads
 *   as the whole list;
 * - it has no page cap and never compares the count with GitHub's documented
 *   caps or the response's `total_count`, so a list GitHub itself cut reads
 *   as complete;
 * - it follows any `rel="next"` URL, to any host, with the token.
 *
 * What GitHub documents ("Using pagination in the REST API"): a paginated
 * response carries a `link` header (RFC 8288) with the URL of the next page
 * marked `rel="next"`; the header is omitted when everything fits on one
 * page; `per_page` goes up to 100. So: ask for 100, follow `rel="next"` to
 * the end or to `maxPages` (past it: GitHubTruncatedError, never a prefix),
 * only to the API's own origin and path prefix. "List commits on a pull
 * request" lists "a maximum of 250 commits"; "List pull requests files":
 * "Responses include a maximum of 3000 files": a list at its documented cap
 * may be cut, so it is refused. Lists wrapped with a `total_count` are
 * checked against it. docs/design.md, "The GitHub client".
 */
import type { Octokit } from "@octokit/rest";
import { GitHubApiError, GitHubTruncatedError, header, type Describe, type ResponseHeaders } from "./errors.ts";
import { methodAndPath } from "./route.ts";

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

export interface PaginateOptions {
  /** Most pages to fetch (of 100). More pages → GitHubTruncatedError. Default 30 (3000 items). */
  maxPages?: number;
  /** GitHub's documented item cap for this list, if not in DOCUMENTED_CAPS. */
  documentedCap?: number;
}

export type RequestParams = Record<string, unknown>;

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

/** True when `next` is on the API's origin, under its path prefix: a link elsewhere would carry the token there. */
export function sameApi(api: URL, next: string): boolean {
  try {
    const u = new URL(next);
    const prefix = api.pathname.replace(/\/+$/, "");
    return u.origin === api.origin && (prefix === "" || u.pathname === prefix || u.pathname.startsWith(`${prefix}/`));
  } catch {
    return false;
  }
}

/** The items of one page: an array, or an object wrapping exactly one array (with its `total_count`). */
function listOf<T>(data: unknown, fail: () => GitHubApiError): { items: T[]; totalCount?: number } {
  if (Array.isArray(data)) return { items: data as T[] };
  if (typeof data === "object" && data !== null) {
    const arrays = Object.entries(data).filter(([, v]) => Array.isArray(v));
    const total = (data as { total_count?: unknown }).total_count;
    if (arrays.length === 1 && arrays[0]) {
      return { items: arrays[0][1] as T[], ...(typeof total === "number" ? { totalCount: total } : {}) };
    }
  }
  throw fail();
}

interface Page {
  readonly status: number;
  readonly headers: ResponseHeaders;
  readonly data: unknown;
}

export interface Paginator {
  firstPage<T>(route: string, params?: RequestParams, options?: PaginateOptions): Promise<ListPage<T>>;
  paginate<T>(route: string, params?: RequestParams, options?: PaginateOptions): Promise<T[]>;
}

/** One list being read: where it comes from, and the limits it is held to. */
interface ListRead {
  readonly octokit: Octokit;
  readonly api: URL;
  readonly describe: Describe;
  readonly route: string;
  readonly shown: string;
  readonly maxPages: number;
  readonly cap: number | undefined;
}

function notAList(r: Pick<ListRead, "describe" | "route">, status: number): GitHubApiError {
  return new GitHubApiError(r.describe(r.route, status, undefined, "expected a list"), { status, route: r.route }, "invalid-response");
}

/** The page after `last`, or an error when following `next` would pass the page cap or leave the API. */
async function nextPage(r: ListRead, next: string, last: Page, pages: number, received: number): Promise<Page> {
  if (pages >= r.maxPages) {
    const detail = `more than ${r.maxPages} pages of ${MAX_PER_PAGE}; refusing a partial list`;
    throw new GitHubTruncatedError(r.describe(r.shown, last.status, header(last.headers, "x-github-request-id"), detail), {
      status: last.status,
      route: r.route,
      reason: "page-cap",
      received,
      limit: r.maxPages,
    });
  }
  if (!sameApi(r.api, next)) {
    const detail = "pagination link points outside the API; not followed";
    throw new GitHubApiError(r.describe(r.shown, last.status, undefined, detail), { status: last.status, route: r.route }, "invalid-response");
  }
  return (await r.octokit.request({ method: "GET", url: next, request: { ghRoute: r.route } })) as Page;
}

/** Refuses a whole list that reached GitHub's documented cap or holds fewer items than its `total_count`. */
function checkWhole(r: ListRead, count: number, totalCount: number | undefined, status: number): void {
  const refuse = (reason: "documented-cap" | "total-count", limit: number, detail: string) =>
    new GitHubTruncatedError(r.describe(r.shown, status, undefined, detail), { status, route: r.route, reason, received: count, limit });
  if (r.cap !== undefined && count >= r.cap) {
    throw refuse("documented-cap", r.cap, `${count} items reached GitHub's documented cap of ${r.cap}; the list may be cut short`);
  }
  if (totalCount !== undefined && count < totalCount) throw refuse("total-count", totalCount, `${count} items listed of total_count ${totalCount}`);
}

/** The whole list: the first page's items, then every page `rel="next"` leads to, checked as a whole. */
async function readAll<T>(r: ListRead, first: Page, firstList: { items: T[]; totalCount?: number }): Promise<T[]> {
  const items = [...firstList.items];
  let totalCount = firstList.totalCount;
  let page = first;
  for (let pages = 1, next = nextLink(header(page.headers, "link")); next !== undefined; pages++, next = nextLink(header(page.headers, "link"))) {
    page = await nextPage(r, next, page, pages, items.length);
    const status = page.status;
    const list = listOf<T>(page.data, () => notAList(r, status));
    items.push(...list.items);
    if (list.totalCount !== undefined) totalCount = list.totalCount;
  }
  checkWhole(r, items.length, totalCount, page.status);
  return items;
}

/** `firstPage` and `paginate` over `octokit` (the client's, hooks installed) for the API at `api`. */
export function createPaginator(octokit: Octokit, api: URL, describe: Describe): Paginator {
  async function firstPage<T>(route: string, params: RequestParams = {}, opts: PaginateOptions = {}): Promise<ListPage<T>> {
    const shown = methodAndPath(octokit.request.endpoint(route, params), api);
    const r: ListRead = { octokit, api, describe, route, shown, maxPages: opts.maxPages ?? 30, cap: opts.documentedCap ?? DOCUMENTED_CAPS[route] };
    const first = (await octokit.request(route, { ...params, per_page: MAX_PER_PAGE, request: { ghRoute: route } })) as Page;
    const firstList = listOf<T>(first.data, () => notAList(r, first.status));
    const link = header(first.headers, "link");
    const complete = nextLink(link) === undefined;
    const lastPage = pageOf(linkRel(link, "last"));
    let whole: Promise<T[]> | undefined;
    return {
      items: firstList.items,
      complete,
      remainingPages: complete ? 0 : lastPage !== undefined && lastPage > 1 ? lastPage - 1 : undefined,
      all: () => (whole ??= readAll(r, first, firstList)),
    };
  }
  return {
    firstPage,
    paginate: async <T>(route: string, params?: RequestParams, opts?: PaginateOptions): Promise<T[]> => (await firstPage<T>(route, params, opts)).all(),
  };
}
