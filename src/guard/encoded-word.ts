/**
 * RFC 2047 encoded-words (`=?utf-8?Q?...?=`, `=?utf-8?B?...?=`) decoded in
 * any header, so an address cannot hide in a Subject or display name. Whitespace
 * between two adjacent encoded-words is dropped (RFC 2047 §6.2): a reader
 * shows `=?utf-8?Q?taro?= =?utf-8?Q?=40example.com?=` as one word.
 *
 * Only UTF-8 and US-ASCII are accepted (we only write UTF-8); any other
 * charset, a malformed Q or B text, or bytes that are not UTF-8 refuse the
 * message. A sequence that is not an encoded-word at all stays as written;
 * the caller scans the raw value too.
 */
import { decodeBase64Strict } from "./base64.ts";
import { unparseable } from "./refusal.ts";

const WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
const ONLY_WSP = /^[ \t\r\n]*$/;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function decodeEncodedWords(value: string, where: string): string {
  if (!value.includes("=?")) return value;
  let out = "";
  let last = 0;
  let prevEnd = -1;
  WORD.lastIndex = 0;
  for (let m = WORD.exec(value); m !== null; m = WORD.exec(value)) {
    const gap = value.slice(last, m.index);
    if (!(last === prevEnd && ONLY_WSP.test(gap))) out += gap;
    out += decodeWord(m[1]!, m[2]!, m[3]!, where);
    last = prevEnd = m.index + m[0].length;
  }
  return out + value.slice(last);
}

function decodeWord(charset: string, encoding: string, text: string, where: string): string {
  // RFC 2231 §5: `utf-8*en` carries a language tag.
  const star = charset.indexOf("*");
  const cs = (star >= 0 ? charset.slice(0, star) : charset).toLowerCase();
  if (cs !== "utf-8" && cs !== "utf8" && cs !== "us-ascii") {
    unparseable(where, "an encoded-word in a charset other than UTF-8 (RFC 2047 §2); we only write UTF-8");
  }
  const bytes = encoding === "B" || encoding === "b" ? decodeBase64Strict(text, where) : decodeQ(text, where);
  try {
    return UTF8.decode(bytes);
  } catch {
    unparseable(where, "an encoded-word whose bytes are not UTF-8 (RFC 2047 §5)");
  }
}

/** RFC 2047 §4.2: `_` is a space, `=XX` an octet, other printable ASCII itself. */
function decodeQ(text: string, where: string): Buffer {
  const out = Buffer.allocUnsafe(text.length);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5f) {
      out[o++] = 0x20;
    } else if (c === 0x3d) {
      const h = hex(text.charCodeAt(i + 1));
      const l = hex(text.charCodeAt(i + 2));
      if (h < 0 || l < 0) unparseable(where, "an encoded-word with `=` not followed by two hex digits (RFC 2047 §4.2)");
      out[o++] = (h << 4) | l;
      i += 2;
    } else if (c > 0x20 && c < 0x7f) {
      out[o++] = c;
    } else {
      unparseable(where, "an encoded-word with a character outside printable ASCII (RFC 2047 §5)");
    }
  }
  return out.subarray(0, o);
}

/** Value of one hex digit (either case), or -1. */
export function hex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
