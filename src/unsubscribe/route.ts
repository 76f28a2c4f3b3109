/**
 * Where the token is in `sender.unsubscribe.url`: in a query parameter
 * (`https://corp.example/unsubscribe?u={{ unsubscribe_token }}`) or in the
 * path (`https://corp.example/u/{{ unsubscribe_token }}`). The server answers
 * that path only, whatever host and scheme a proxy in front of it uses.
 */
const PLACEHOLDER = /\{\{\s*unsubscribe_token\s*\}\}/g;
const MARK = "UNSUBSCRIBETOKENMARK";

export type Route = (pathname: string, query: URLSearchParams) => { token: string | null } | null;

export function unsubscribeRoute(template: string): Route {
  const url = new URL(template.replace(PLACEHOLDER, MARK));
  const param = [...url.searchParams.entries()].find(([, v]) => v === MARK)?.[0];
  if (param !== undefined) {
    const path = url.pathname;
    return (pathname, query) => (pathname === path ? { token: query.get(param) } : null);
  }
  const at = url.pathname.indexOf(MARK);
  if (at < 0) throw new Error("the unsubscribe URL holds no {{ unsubscribe_token }}");
  const before = url.pathname.slice(0, at);
  const after = url.pathname.slice(at + MARK.length);
  return (pathname) => {
    if (!pathname.startsWith(before) || !pathname.endsWith(after) || pathname.length < before.length + after.length) return null;
    try {
      return { token: decodeURIComponent(pathname.slice(before.length, pathname.length - after.length)) };
    } catch {
      return { token: null }; // malformed percent-encoding: a malformed token
    }
  };
}
