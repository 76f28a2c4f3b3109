/**
 * `Content-Type` (RFC 2045 §5.1) and `Content-Disposition` (RFC 2183 §2):
 * a lowercase `type/subtype` or disposition type and its parameters. Strict:
 * a parameter named twice, an unterminated quoted-string or a comment refuses
 * the message (readers resolve those differently, and a boundary or charset
 * two readers see differently is a way past the guard).
 */
import { unparseable } from "./refusal.ts";

export interface Header {
  /** `text/plain`, `multipart/alternative`; for a disposition `inline`. Lowercase. */
  readonly value: string;
  /** Parameter names lowercase; values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/** RFC 2045 §5.1 token: printable ASCII except SP and tspecials. */
const TOKEN = /^[!#$%&'*+\-.^_`{|}~0-9A-Za-z]+$/;
const MEDIA = /^[!#$%&'*+\-.^_`{|}~0-9a-z]+\/[!#$%&'*+\-.^_`{|}~0-9a-z]+$/;
/** Unquoted parameter values: senders often leave tspecials such as `=` unquoted; accept all but separators. */
const BARE_VALUE = /^[^\s;"()\\]+$/;

export function parseHeader(raw: string, where: string, media: boolean): Header {
  const semi = raw.indexOf(";");
  const value = (semi < 0 ? raw : raw.slice(0, semi)).trim().toLowerCase();
  if (!(media ? MEDIA : TOKEN).test(value)) unparseable(where, "a malformed value (RFC 2045 §5.1, RFC 2183 §2)");
  const params = new Map<string, string>();
  if (semi < 0) return { value, params };
  let i = semi + 1;
  const n = raw.length;
  while (i < n) {
    while (i < n && (raw[i] === " " || raw[i] === "\t" || raw[i] === ";")) i++;
    if (i >= n) break;
    const eq = raw.indexOf("=", i);
    if (eq < 0) unparseable(where, "a parameter without `=` (RFC 2045 §5.1)");
    const name = raw.slice(i, eq).trim().toLowerCase();
    if (!TOKEN.test(name)) unparseable(where, "a malformed parameter name (RFC 2045 §5.1)");
    i = eq + 1;
    while (raw[i] === " " || raw[i] === "\t") i++;
    let v = "";
    if (raw[i] === '"') {
      // quoted-string (RFC 5322 §3.2.4): `\` quotes the next character.
      i++;
      for (;;) {
        if (i >= n) unparseable(where, "an unterminated quoted-string (RFC 5322 §3.2.4)");
        const c = raw[i]!;
        if (c === '"') break;
        if (c === "\\") i++;
        v += raw[i] ?? "";
        i++;
      }
      i++;
      while (raw[i] === " " || raw[i] === "\t") i++;
      if (i < n && raw[i] !== ";") unparseable(where, "text after a quoted parameter value (RFC 2045 §5.1)");
    } else {
      let end = raw.indexOf(";", i);
      if (end < 0) end = n;
      v = raw.slice(i, end).trim();
      if (!BARE_VALUE.test(v)) unparseable(where, "a malformed parameter value (RFC 2045 §5.1)");
      i = end;
    }
    if (params.has(name)) unparseable(where, "a parameter given twice (RFC 2045 §5.1)");
    params.set(name, v);
  }
  return { value, params };
}
