/**
 * Text hidden one encoding deeper than a reader's eye but one click or one
 * decoder away (docs/design.md, "Address detection"): the payload of a
 * `data:` URI (RFC 2397; an `<img>` of an SVG whose text is an address, a
 * link to `data:text/plain;base64,…`), an RFC 2047 encoded-word written into
 * body text or a list field, and a bare base64 run that decodes to text.
 * Each is returned with its span in the text it was found in, for the
 * address extractor to read again. Tolerant: what does not decode is skipped.
 */
import { decodeBase64 } from "./mime.ts";

export interface Payload {
  /** The decoded text. */
  text: string;
  /** Span of the encoded form in the searched text. */
  offset: number;
  length: number;
}

// RFC 2397: data:[<mediatype>][;base64],<data>. The data ends where a URL in
// HTML, CSS, Markdown or prose ends.
const DATA_URI = /data:([a-z0-9.+/-]*(?:;[a-z0-9.+-]+(?:=[^;,\s"'<>()]*)?)*),([^\s"'<>()]*)/gi;
// RFC 2047 §2, any charset name; Q or B.
const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
// A bare base64 run long enough to hold an address (a short address of 8 octets is 12 base64 characters).
const BASE64_RUN = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])/g;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
/** Decoded text worth reading: printable, and holding an at sign in some form. */
const TEXTLIKE = /^[^\x00-\x08\x0e-\x1f\x7f]*$/;
const AT_LIKE = /[@\uff20\ufe6b&%\\]|at/i;

/** The payloads in `text`, one level deep; `decodeBare`: also bare base64 runs (list fields, body text). */
export function payloads(text: string, decodeBare = true): Payload[] {
  const out: Payload[] = [];
  if (text.includes("data:") || /data:/i.test(text)) {
    DATA_URI.lastIndex = 0;
    for (let m = DATA_URI.exec(text); m !== null; m = DATA_URI.exec(text)) {
      const base64 = /;base64$/i.test(m[1]!) || /;base64;/i.test(m[1]!);
      const t = base64 ? bytesText(decodeBase64(m[2]!)) : percentText(m[2]!);
      if (t !== null) out.push({ text: t, offset: m.index, length: m[0].length });
    }
  }
  if (text.includes("=?")) {
    ENCODED_WORD.lastIndex = 0;
    for (let m = ENCODED_WORD.exec(text); m !== null; m = ENCODED_WORD.exec(text)) {
      const t = m[2]!.toLowerCase() === "b" ? bytesText(decodeBase64(m[3]!)) : qText(m[3]!);
      if (t !== null) out.push({ text: t, offset: m.index, length: m[0].length });
    }
  }
  if (decodeBare) {
    BASE64_RUN.lastIndex = 0;
    for (let m = BASE64_RUN.exec(text); m !== null; m = BASE64_RUN.exec(text)) {
      const s = m[0];
      if (!base64Like(s)) continue;
      const t = bytesText(decodeBase64(s));
      if (t !== null && AT_LIKE.test(t)) out.push({ text: t, offset: m.index, length: s.length });
    }
  }
  return out;
}

/**
 * Does `text` hold a bare base64 run that `payloads` would decode (text-like, with an at sign in
 * some form)? The same test as there, so a gate on it skips nothing payloads would find; a random
 * token (an unsubscribe token, a Message-ID's hash) decodes to no such text.
 */
export function hasBareBase64Text(text: string): boolean {
  BASE64_RUN.lastIndex = 0;
  for (let m = BASE64_RUN.exec(text); m !== null; m = BASE64_RUN.exec(text)) {
    if (!base64Like(m[0])) continue;
    const t = bytesText(decodeBase64(m[0]));
    if (t !== null && AT_LIKE.test(t)) return true;
  }
  return false;
}

/** Words and numbers are not base64 worth decoding: a run needs padding, or a digit or `+/` and both cases. */
export function base64Like(run: string): boolean {
  return run.endsWith("=") || (/[0-9+/]/.test(run) && /[a-z]/.test(run) && /[A-Z]/.test(run));
}

function bytesText(b: Buffer): string | null {
  if (b.length === 0) return null;
  try {
    const t = UTF8.decode(b);
    return TEXTLIKE.test(t) ? t : null;
  } catch {
    return null;
  }
}

function percentText(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** RFC 2047 §4.2: `_` is a space, `=XX` an octet. */
function qText(s: string): string | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "_") bytes.push(0x20);
    else if (c === "=" && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c.charCodeAt(0) & 0xff);
  }
  return bytesText(Buffer.from(bytes));
}
