/**
 * The unsubscribe endpoint's decisions, as a pure function of one request
 * (docs/design.md, "Recipient data and suppressions"). The HTTP server
 * (cli/commands/unsubscribe-server.ts) parses the request, calls `decide`,
 * records the fingerprint when told to, and writes the response.
 *
 * - POST with `List-Unsubscribe=One-Click` (RFC 8058 §3.2) and a genuine
 *   token: record the token's fingerprint. Nothing is looked up in any list:
 *   the token carries the fingerprint and its HMAC.
 * - GET: a confirmation page whose button makes that same POST. A GET never
 *   unsubscribes: mail scanners and link previews follow links (RFC 8058 §4).
 * - A malformed token → 400, a forged one → 403; nothing is recorded.
 */
import { verifyUnsubscribeToken } from "../compose/ids.ts";
import { confirmationPage, type Lang, type PageKind } from "./page.ts";

export interface EndpointConfig {
  /** The path of `sender.unsubscribe.url` (e.g. /unsubscribe), or a pattern when the token is in the path. */
  match(pathname: string, query: URLSearchParams): { token: string | null } | null;
  secret: string;
  /** List ids a token may have been made for (sender.list_id, or one per newsletter). */
  listIds: readonly string[];
}

export interface EndpointRequest {
  method: string;
  pathname: string;
  query: URLSearchParams;
  /** The form body of a POST, parsed (application/x-www-form-urlencoded or multipart/form-data). */
  form: URLSearchParams | null;
  acceptLanguage: string | undefined;
}

export interface EndpointResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The fingerprint to record before the response is sent (a failed write must not say "done"). */
  record?: string;
}

/** A token: `<fingerprint>.<16 hex>` (compose/ids.ts). */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{8,128}\.[0-9a-f]{16}$/;

export function decide(cfg: EndpointConfig, req: EndpointRequest): EndpointResponse {
  const lang = pickLanguage(req.acceptLanguage);
  const matched = cfg.match(req.pathname, req.query);
  if (!matched) return page(404, lang, "not-found");
  if (req.method !== "GET" && req.method !== "POST" && req.method !== "HEAD") {
    return { ...page(405, lang, "invalid"), headers: { ...HEADERS, allow: "GET, POST" } };
  }
  const token = matched.token ?? "";
  if (!TOKEN_SHAPE.test(token)) return page(400, lang, "invalid");
  const fp = cfg.listIds.map((id) => verifyUnsubscribeToken(cfg.secret, id, token)).find((x) => x !== null) ?? null;
  if (fp === null) return page(403, lang, "invalid");
  if (req.method !== "POST") return page(200, lang, "confirm");
  // RFC 8058 §3.2: the POST body holds List-Unsubscribe=One-Click; the page's form sends the same.
  if (req.form?.get("List-Unsubscribe") !== "One-Click") return page(400, lang, "invalid");
  return { ...page(200, lang, "done"), record: fp };
}

/** Japanese when the client prefers it to English (RFC 9110 §12.5.4 q-values), else English. */
export function pickLanguage(header: string | undefined): Lang {
  let best: { lang: Lang; q: number } | null = null;
  for (const part of (header ?? "").split(",")) {
    const [tag, ...params] = part.trim().toLowerCase().split(";");
    const q = Number(params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined) ?? "1");
    const lang: Lang | null = tag === "ja" || tag?.startsWith("ja-") ? "ja" : tag === "en" || tag?.startsWith("en-") ? "en" : null;
    if (lang && Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? "en";
}

/**
 * No scripts, no outside resources, forms only back to this endpoint, not
 * framed (a framed button could be clicked for the user), nothing cached.
 */
const HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

function page(status: number, lang: Lang, kind: PageKind): EndpointResponse {
  return { status, headers: { ...HEADERS, "content-language": lang }, body: confirmationPage(kind, lang) };
}
