/**
 * Undo the encodings an address can hide behind in Markdown, HTML and URLs
 * (docs/design.md, "Address detection": decode first), keeping positions (mapped.ts).
 * Everything here is tolerant: a bad sequence is left as it is, never thrown.
 */
import { namedReferenceAt } from "./entities.ts";
import { replaceMapped, type MappedString } from "./mapped.ts";

export { decodeMimeBody } from "./mime.ts";

// Numeric references (WHATWG HTML §13.2.5.80): decimal or hex, `;` optional
// as parsers accept it with a parse error, and of ANY length: leading zeros
// are allowed without limit (`&#x0000040;` is `@`), so a bounded digit count
// would let a padded reference through (docs/design.md, "Address detection").
const ENTITY = /&(?:#0*(\d{1,8})(?!\d)|#[xX]0*([0-9a-fA-F]{1,7})(?![0-9a-fA-F])|([A-Za-z][A-Za-z0-9]{1,31}));?/g;

export function decodeEntities(ms: MappedString): MappedString {
  if (!ms.text.includes("&")) return ms;
  return replaceMapped(ms, ENTITY, (m) => {
    const [all, dec, hex] = m;
    if (dec !== undefined || hex !== undefined) {
      const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex!, 16);
      // Surrogates and out-of-range values are parse errors; leave them be.
      if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return all;
      return String.fromCodePoint(cp);
    }
    // The longest name wins and may be shorter than the run matched (`&ampx;` is `&x;`).
    const ref = namedReferenceAt(all, 0);
    return ref === undefined ? all : ref.value + all.slice(ref.length);
  });
}

// RFC 3986 §2.1 percent-encoding: one ASCII octet, or one complete UTF-8
// sequence (RFC 3629 §3) so a multi-byte character decodes as a whole. An
// incomplete or invalid sequence does not match or fails to decode, and stays.
const PERCENT = /%[0-7][0-9a-fA-F]|%[cCdD][0-9a-fA-F]%[89abAB][0-9a-fA-F]|%[eE][0-9a-fA-F](?:%[89abAB][0-9a-fA-F]){2}|%[fF][0-7](?:%[89abAB][0-9a-fA-F]){3}/g;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function decodePercent(ms: MappedString): MappedString {
  if (!ms.text.includes("%")) return ms;
  return replaceMapped(ms, PERCENT, (m) => {
    const hex = m[0].replaceAll("%", "");
    if (hex.length === 2) {
      const b = Number.parseInt(hex, 16);
      // %00-%1F are controls; they cannot be part of an address and decoding
      // them would only disturb line counting.
      return b < 0x20 ? m[0] : String.fromCharCode(b);
    }
    try {
      return UTF8.decode(Buffer.from(hex, "hex"));
    } catch {
      return m[0];
    }
  });
}

// Backslash escapes: CommonMark §2.4 (`taro\@example\.com` renders without
// the backslashes), the `\u0040` / `\x40` escapes of YAML double-quoted
// scalars (YAML 1.2 §5.7) and JSON (RFC 8259 §7), e.g. in newsletter.yml,
// and CSS escapes (CSS Syntax Level 3 §4.3.7: `\` and one to six hex digits,
// one blank after it swallowed; a line break is left alone, as no decoding
// here joins two lines: src/guard/triggers.ts relies on that), so `content: "taro\40 example.com"` in
// a `<style>` or style attribute is read as the reader's client shows it.
const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([0-9a-fA-F]{1,6})(?:[ \t])?|([!-/:-@[-`{-~]))/g;

export function decodeEscapes(ms: MappedString): MappedString {
  if (!ms.text.includes("\\")) return ms;
  return replaceMapped(ms, ESCAPE, (m) => {
    const [, u, x, css, punct] = m;
    if (punct !== undefined) return punct;
    if (css !== undefined) {
      const cp = Number.parseInt(css, 16);
      // A control, a surrogate or out of range: not text a reader sees; leave it.
      if (cp < 0x20 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return m[0];
      return String.fromCodePoint(cp);
    }
    const cp = Number.parseInt((u ?? x)!, 16);
    if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff)) return m[0];
    return String.fromCharCode(cp);
  });
}

/**
 * All text decodings, in the order that undoes the usual nesting: HTML
 * attribute values hold percent-encoded URLs, and a percent-encoded `&#64;`
 * is one more layer, so entities run again when percent-decoding changed
 * anything.
 */
export function decodeText(ms: MappedString): MappedString {
  let out = decodeEscapes(decodeEntities(ms));
  const beforePercent = out;
  out = decodePercent(out);
  if (out !== beforePercent) out = decodeEntities(out);
  return out;
}
