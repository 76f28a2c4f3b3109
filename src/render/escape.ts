/**
 * Escaping of recipient values for the place a slot sits in (see slots.ts).
 * Values are data, never markup: they are escaped here and never parsed as
 * Markdown or HTML.
 */

const HTML_SPECIAL = /[&<>"']/;
const HTML_SPECIAL_G = /[&<>"']/g;

function htmlEntity(c: string): string {
  switch (c) {
    case "&":
      return "&amp;";
    case "<":
      return "&lt;";
    case ">":
      return "&gt;";
    case '"':
      return "&quot;";
    default:
      return "&#39;";
  }
}

/**
 * Escapes `& < > " '` so a value is inert both in element text and in a
 * quoted attribute value (either quote style).
 */
export function escapeHtml(value: string): string {
  return HTML_SPECIAL.test(value) ? value.replace(HTML_SPECIAL_G, htmlEntity) : value;
}

/**
 * Percent-encodes a value that sits inside a URL (`encodeURIComponent`), so it
 * can add neither path segments, nor query parameters, nor a fragment.
 * Throws `URIError` for a string that is not well-formed UTF-16 (a lone
 * surrogate); callers turn that into a message naming the field.
 */
export function encodeUrlValue(value: string): string {
  return encodeURIComponent(value);
}

/** A value inside an HTML `href`/`src`: percent-encoded, then HTML-escaped. */
export function escapeHtmlUrl(value: string): string {
  return escapeHtml(encodeURIComponent(value));
}
