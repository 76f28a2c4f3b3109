/**
 * The permissive address pattern, as a scan outward from each `@` rather than
 * a regex over the whole text: one `indexOf` per `@` keeps a 377 KB body with
 * 13,011 addresses in the tens of milliseconds, and the local part and domain
 * each need rules a regex states badly (where Japanese text glued to an
 * address ends, which dots belong to the domain).
 *
 * No TLD allowlist (new TLDs appear every year); instead the false alarms that
 * matter in newsletters are excluded by shape: no local part (`/@news`,
 * CSS `@media`), a numeric TLD or a version-like domain (`lib@4.2.0`, `pkg@1.2.3-rc.1`).
 * Runs on decoded, folded, de-obfuscated text (lowercase, NFKC).
 */
import { WEAK_AT, WEAK_DOT } from "./deobfuscate.ts";

export interface Candidate {
  /** `local@domain` as written after folding; not yet IDN-converted. */
  raw: string;
  /** Span in the searched text. */
  start: number;
  end: number;
  /** The `@` was a real or encoded `@` / bracketed word, not a spaced ` at `. */
  strongAt: boolean;
  /** Last domain label, for the file-name test. */
  tld: string;
}

const CJK = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\u30fc\u3005]/u;
const LETTER = /[\p{L}\p{M}\p{N}]/u;
// RFC 5322 §3.2.3 atext allows `/ = ? & { } | # ! ~ ^ * $ %` too, but in
// prose and URLs those are delimiters (`?email=taro@…`, `/@news`), and no
// real mailbox provider hands them out; `'` stays for O'Brien.
const LOCAL_ASCII = asciiTable("abcdefghijklmnopqrstuvwxyz0123456789._+'-");
// RFC 1035 §2.3.1 LDH labels.
const LABEL_ASCII = asciiTable("abcdefghijklmnopqrstuvwxyz0123456789-");
const LOCAL_TRIM = /^[._'+-]+/;
const MAX_LOCAL = 128;
const MAX_DOMAIN = 253;

const LATIN = 1;
const CJK_KIND = 2;
/** 0: not part of an address; LATIN: ASCII or non-CJK letters; CJK_KIND: Han, kana, Hangul. */
type Kind = 0 | typeof LATIN | typeof CJK_KIND;

function asciiTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (const c of chars) {
    t[c.charCodeAt(0)] = 1;
    t[c.toUpperCase().charCodeAt(0)] = 1;
  }
  return t;
}

// Per-character kind; ASCII by table lookup, since the scan visits every
// character of 13,011 addresses and a regex test per character tripled the time.
function kindOf(text: string, i: number, ascii: Uint8Array): Kind {
  if (i < 0 || i >= text.length) return 0;
  const c = text.charCodeAt(i);
  if (c < 0x80) return ascii[c] === 1 ? LATIN : 0;
  if (c >= 0xd800 && c <= 0xdfff) return 0;
  const ch = text[i]!;
  if (CJK.test(ch)) return CJK_KIND;
  return LETTER.test(ch) ? LATIN : 0;
}

/** The candidate around the `@` or WEAK_AT at `at`, or null when it is not address-shaped. */
export function candidateAt(text: string, at: number): Candidate | null {
  // Local part: one run of the same script class backwards from the `@`, so
  // `連絡先はtaro@…` yields `taro` and `太郎@…` yields `太郎`.
  const kind = kindOf(text, at - 1, LOCAL_ASCII);
  if (kind === 0) return null;
  let s = at;
  while (s > 0 && at - s < MAX_LOCAL && kindOf(text, s - 1, LOCAL_ASCII) === kind) s--;
  let local = text.slice(s, at);
  if (kind === LATIN) {
    const trimmed = local.replace(LOCAL_TRIM, "");
    s += local.length - trimmed.length;
    local = trimmed;
  }
  if (local.length === 0) return null;

  // Domain: labels of one script class each, joined by dots. Tracked as
  // positions, not an array of strings: this runs 13,011 times for the
  // incident body and allocation dominated it.
  let pos = at + 1;
  let labels = 0;
  let firstEnd = -1;
  let lastStart = -1;
  let usedRealDot = false;
  let usedWeakDot = false;
  // RFC 1035 §2.3.1: a label starts with a letter or digit, never `-`.
  if (text.charCodeAt(pos) === HYPHEN) return null;
  while (pos - at <= MAX_DOMAIN) {
    const k = kindOf(text, pos, LABEL_ASCII);
    if (k === 0) break;
    lastStart = pos;
    while (pos - at <= MAX_DOMAIN && kindOf(text, pos, LABEL_ASCII) === k) pos++;
    labels++;
    if (labels === 1) firstEnd = pos;
    // A change of script inside what would be one label ends the domain:
    // `example.comまで` is `example.com` followed by Japanese.
    if (kindOf(text, pos, LABEL_ASCII) !== 0) break;
    const sep = text[pos];
    if (sep !== "." && sep !== WEAK_DOT) break;
    if (sep === WEAK_DOT && usedRealDot) break;
    const nextKind = kindOf(text, pos + 1, LABEL_ASCII);
    if (nextKind === 0 || text.charCodeAt(pos + 1) === HYPHEN) break;
    // `taro@example.com。次の…` (the ideographic stop folded to `.`) ends the
    // sentence, not the domain: an ASCII label followed by a CJK one.
    if (k === LATIN && nextKind === CJK_KIND) break;
    if (sep === ".") usedRealDot = true;
    else usedWeakDot = true;
    pos++;
  }
  // Trailing hyphens belong to the prose (an address followed by `--`); the label
  // started with a non-hyphen, so it never becomes empty.
  while (pos > lastStart && text.charCodeAt(pos - 1) === HYPHEN) pos--;
  if (labels < 2) return null;
  const tld = text.slice(lastStart, pos);
  // A TLD is never numeric (RFC 3696 §2) and never one character: this drops
  // `pkg@1.2.3`, IP-address hosts and `taro@example.c`.
  if (tld.length < 2 || NUMERIC.test(tld)) return null;
  // `lib@4.2.0-rc.beta`: a domain that starts like a version number. A
  // numeric first label alone is fine (`163.com` is a real mail domain).
  if (NUMERIC.test(text.slice(at + 1, firstEnd)) && isDigit(text.charCodeAt(firstEnd + 1))) return null;

  const strongAt = text[at] !== WEAK_AT;
  let raw = text.slice(s, pos);
  if (!strongAt) raw = `${local}@${text.slice(at + 1, pos)}`;
  if (usedWeakDot) raw = raw.replaceAll(WEAK_DOT, ".");
  return { raw, start: s, end: pos, strongAt, tld };
}

const HYPHEN = 0x2d;
const NUMERIC = /^[0-9-]+$/;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
