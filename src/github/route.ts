/**
 * Names of a GitHub request: the route template that code branches on
 * (`GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`), and the request
 * as sent that people read (`GET /repos/corp/news/pulls/7/reviews`: a
 * template says nothing about which repository was asked). Neither carries
 * the query.
 */

export interface RequestNames {
  readonly route: string;
  readonly shown: string;
}

interface EndpointLike {
  method?: unknown;
  url?: unknown;
  request?: { readonly [key: string]: unknown } | undefined;
}

/** `METHOD /path` of a template or absolute URL, relative to the API's path prefix (`/api/v3` on GHES). */
export function methodAndPath(options: EndpointLike, api: URL): string {
  const method = String(options.method ?? "GET").toUpperCase();
  let path = String(options.url ?? "");
  if (/^https?:/i.test(path)) {
    const u = new URL(path);
    path = u.pathname.startsWith(api.pathname) && api.pathname !== "/" ? u.pathname.slice(api.pathname.length) : u.pathname;
  }
  return `${method} ${path.split("?")[0]}`;
}

/**
 * The names of a request octokit is about to send. `request.ghRoute` (set by
 * the paginator on follow-up pages, whose URL is absolute) names the route.
 * `expand` fills the template; a request it cannot expand is shown by its route.
 */
export function requestNames(options: EndpointLike, api: URL, expand: (options: EndpointLike) => EndpointLike): RequestNames {
  const label = options.request?.["ghRoute"];
  const route = typeof label === "string" ? label : methodAndPath(options, api);
  let shown = route;
  try {
    const sent = expand(options);
    if (sent.url) shown = methodAndPath(sent, api);
  } catch {
    // A request octokit cannot expand is named by its route.
  }
  return { route, shown };
}
