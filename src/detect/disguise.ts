/**
 * The lax reading of a text: every way a reader could still see, or get with
 * one click, an address (docs/design.md, "Address detection"). Where the
 * strict extractor (extract.ts) finds what is written as an address, this
 * finds what could be *meant* as one:
 *
 * - lookalike `@` and `.` (lookalike.ts), mapped before NFKC folds the
 *   circled `ⓐ` into a plain `a`;
 * - text inside a right-to-left override or isolate, read in the order a
 *   reader sees it (UAX #9: `U+202E moc.elpmaxe@orat` shows as an address);
 * - `at` / `dot` as words, English and Japanese (`アット`, `あっと`, `ドット`,
 *   `どっと`), spaced or not, across line breaks too;
 * - blanks and line breaks around `@` and `.` (`taro . yamada @ example . com`,
 *   `{{ name }}⏎@{{ domain }}`);
 * - `data:` URIs, RFC 2047 encoded-words and bare base64 (payload.ts), read
 *   again, two levels deep.
 *
 * This reading has false candidates by design ("meet us at the example.com
 * booth" has one), so nothing it finds is refused for its shape: every
 * candidate is only LOOKED UP in the recipient and suppression lists (check)
 * or the send's fingerprints (guard). To miss no intended reading, each
 * `local@domain` is also tried with the leading dot-separated words of the
 * local part dropped and with the domain cut after each label
 * (`thanks.taro@example.com.next` → `taro@example.com`, among others).
 */
import { normaliseAddress } from "../address/normalise.ts";
import { decodeText } from "./decode.ts";
import { deobfuscate } from "./deobfuscate.ts";
import { findAddresses } from "./extract.ts";
import { foldMapped } from "./fold.ts";
import { AT_LOOKALIKE, AT_LOOKALIKES, BIDI_CONTROLS, DOT_LOOKALIKE, DOT_LOOKALIKES } from "./lookalike.ts";
import { mapped, originalSpan, replaceMapped, type MappedString } from "./mapped.ts";
import { hasBareBase64Text, payloads } from "./payload.ts";

export interface Disguised {
  /** Normalised (src/address/normalise.ts), ready for a lookup. */
  address: string;
  /** Span in the original text (the whole payload for a decoded one). */
  offset: number;
  length: number;
}

/** Markers of this reading: Unicode noncharacters, as deobfuscate.ts's. */
const LAX_AT = "\ufdd2";
const LAX_DOT = "\ufdd3";
const ANY_MARKER = /[\ufdd0-\ufdd3]/g;

/** Without one of these there is no at sign in any spelling, and no payload: nothing to read. */
const MAY_DISGUISE = /[^\x00-\x7f]|[@&%\\=]|at|data:|[A-Za-z0-9+/]{12}/i;

const OVERRIDE = /[\u202e\u202b\u2067]([^\u202c\u2069\n]*)[\u202c\u2069]?/g;
const WORD_AT = /\s+(?:at|atmark)\s+|\s*(?:アット|あっと)(?!マーク)\s*/g;
const WORD_DOT = /\s+(?:dot|period)\s+|\s*(?:ドット|どっと)\s*/g;
const AT_RUN = /\s*[@\ufdd0\ufdd2]\s*/g;
const DOT_RUN = /(?<=[\p{L}\p{N}])\s*[.\ufdd1\ufdd3]\s*(?=[\p{L}\p{N}])/gu;
const NEEDS_SECOND_DECODE = /[&%\\]/;
const MAX_DEPTH = 2;
const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_LABELS = 6;
const MAX_LOCAL_WORDS = 4;

/** The text as the lax reading sees it: every `@` and `.` in any spelling as `@` and `.`, blanks around them gone. */
export function laxText(text: string): MappedString {
  let ms = decodeText(mapped(text));
  ms = replaceMapped(ms, ANY_MARKER, () => " ");
  ms = replaceMapped(ms, OVERRIDE, (m) => [...m[1]!].reverse().join(""));
  ms = replaceMapped(ms, AT_LOOKALIKE, () => LAX_AT);
  ms = replaceMapped(ms, DOT_LOOKALIKE, () => LAX_DOT);
  let folded = foldMapped(ms);
  if (folded !== ms && NEEDS_SECOND_DECODE.test(folded.text)) folded = foldMapped(decodeText(folded));
  ms = deobfuscate(folded);
  ms = replaceMapped(ms, WORD_AT, () => LAX_AT);
  ms = replaceMapped(ms, WORD_DOT, () => LAX_DOT);
  ms = replaceMapped(ms, AT_RUN, () => "@");
  return replaceMapped(ms, DOT_RUN, () => ".");
}

/**
 * Every candidate of the lax reading, normalised, each with its span in
 * `text`. Read window by window: only the lines that hold something the
 * strict extractor does not already read the same way (needsLaxReading), each
 * with the line before or after when an at sign in some spelling starts or
 * ends it. A 700 KB body of 13,011 plain addresses then costs one test per line.
 */
export function disguisedAddresses(text: string, depth = 0): Disguised[] {
  const out: Disguised[] = [];
  const seen = new Set<string>();
  const add = (address: string, offset: number, length: number) => {
    const k = `${address}\0${offset}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ address, offset, length });
  };
  if (!MAY_DISGUISE.test(text)) return out;
  for (const [ws, we] of laxWindows(text)) {
    const ms = laxText(text.slice(ws, we));
    const t = ms.text;
    for (let at = t.indexOf("@"); at >= 0; at = t.indexOf("@", at + 1)) {
      const c = laxCandidate(t, at);
      if (c === null) continue;
      const span = originalSpan(ms, c.start, c.end);
      for (const a of c.addresses) add(a, ws + span.offset, span.length);
    }
  }
  if (depth < MAX_DEPTH) {
    for (const p of payloads(text)) {
      for (const f of findAddresses(p.text)) add(f.address, p.offset, p.length);
      for (const d of disguisedAddresses(p.text, depth + 1)) add(d.address, p.offset, p.length);
    }
  }
  return out;
}

/**
 * Does this line hold something only the lax reading reads: a lookalike,
 * a bidi control, a full-width form or wide blank, a Japanese at or dot
 * word, a blank beside an at sign, an at sign with a blank beside a dot,
 * `at` / `dot` as a word, or an encoding (`&`, `%`, `\`) hiding one of
 * these? Runs on every line the guard collects: plain loops and
 * non-Unicode regexes, as a Unicode alternation cost more than all the
 * guard's other steps together.
 */
// Not the ideographic full stops: the strict reading folds them to "." already, and every
// Japanese sentence ends with one.
const WIDE = new RegExp(`[${[...AT_LOOKALIKES, ...DOT_LOOKALIKES].filter((c) => c.length === 1 && c !== "\u3002" && c !== "\uff61").join("")}${BIDI_CONTROLS}\\uff01-\\uff5e\\u3000\\u00a0\\u2000-\\u200b]|アット|あっと|ドット|どっと|[\\ud83c\\ud802]`);
const NON_ASCII = /[^\x00-\x7f]/;
// "at" and "dot" as words only where they could join an address: "at" (or "atmark") before a
// label and a dot in some spelling, "dot"/"period" between two labels (tags between them allowed).
// Not every "at": "at any time" opens a footer line that holds each recipient's unsubscribe link,
// and a lax reading of it in every message cost more than the rest of the guard.
const AT_WORD = /\bat(?:mark)?\b[\])}]?(?:\s|<[^>]*>)*[a-z0-9_-]+[\])}]?(?:\s|<[^>]*>)*[\[({]?(?:\.|\bdot\b|\bperiod\b)/i;
const AT_WORD_ANY = /\bat/i;
const DOT_WORD_ANY = /\b(?:dot|period)\b/i;
const DOT_WORD = /[a-z0-9_-][\])}]?(?:\s|<[^>]*>)*[\[({]?\b(?:dot|period)\b[\])}]?(?:\s|<[^>]*>)*[a-z0-9]/i;
const SPACED_DOT = /\s\.|\.\s/;
const ENCODED = /[&%\\]/;

function laxDirect(line: string): boolean {
  const at = line.indexOf("@");
  if (at >= 0) {
    for (let p = at; p >= 0; p = line.indexOf("@", p + 1)) {
      if (isBlank(line.charCodeAt(p - 1)) || isBlank(line.charCodeAt(p + 1))) return true;
    }
    if (SPACED_DOT.test(line)) return true;
  }
  // Plain word tests first: the two patterns try every position of a line.
  if ((AT_WORD_ANY.test(line) && AT_WORD.test(line)) || (DOT_WORD_ANY.test(line) && DOT_WORD.test(line))) return true;
  return NON_ASCII.test(line) && WIDE.test(line);
}

export function needsLaxReading(line: string): boolean {
  if (laxDirect(line)) return true;
  if (!ENCODED.test(line)) return false;
  // A numeric reference, a hex escape or a percent-encoded non-ASCII octet may be any character.
  if (ANY_CHARACTER.test(line)) return true;
  const decoded = line.replace(BLANK_OR_AT, (m) => (m.toLowerCase() === "%40" || m.toLowerCase() === "&commat;" ? "@" : " "));
  return decoded !== line && laxDirect(decoded);
}

const ANY_CHARACTER = /&#|\\[0-9a-f]|%[89a-f][0-9a-f]/i;
const BLANK_OR_AT = /%(?:20|09|0a|0d|40)|&nbsp;|&commat;/gi;

/**
 * Does this line hold a payload (payload.ts): a `data:` URI, an
 * encoded-word, or a base64 run long enough to hold an address?
 */
export function mayHoldPayload(line: string): boolean {
  return line.includes("data:") || line.includes("=?") || /data:/i.test(line) || hasBareBase64Text(line);
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xa0 || c === 0x3000;
}

/** Without one of these no at sign in any spelling can stand at an edge. */
const MAY_EDGE = /[@&\uff20\ufe6b\u24d0\u24b6\u30a2\u3042]/;
const AT_CHARS = "@\uff20\ufe6b\u24d0\u24b6";
const AT_REFS = ["&#64;", "&#x40;", "&#X40;", "&commat;"];
// Not the English word: prose wraps lines after "at" all the time, and each such line would send
// the guard's quoted-printable part down its slow path (qp-units.ts) in every message.
const AT_WORDS = ["アット", "あっと"];

// A CSS at-rule opening a line (a layout's `@media (…) {`): not the rest of an address, since a
// domain goes on with a dot, not a blank, bracket or brace. Were it an edge, every message of a
// layout with @media rules would send the guard's quoted-printable part down its slow path.
const CSS_AT_RULE = /^@(?:media|supports|font-face|import|keyframes|charset|page|layer|container|namespace)(?=[\s({;]|$)/i;

/** An at sign in some spelling starts (-1), ends (1) or both (2) the line, after blanks and tags, or neither (0). */
export function atEdge(line: string): number {
  if (!MAY_EDGE.test(line)) return 0;
  const s = atEdgeStart(line);
  const e = atEdgeEnd(line);
  return s && e ? 2 : s ? -1 : e ? 1 : 0;
}

function atEdgeStart(line: string): boolean {
  let i = 0;
  for (;;) {
    while (i < line.length && isBlank(line.charCodeAt(i))) i++;
    if (line[i] !== "<") break;
    const gt = line.indexOf(">", i);
    if (gt < 0) return false;
    i = gt + 1;
  }
  if (i >= line.length) return false;
  if (AT_CHARS.includes(line[i]!)) return !CSS_AT_RULE.test(line.slice(i, i + 24));
  const rest = line.slice(i, i + 10).toLowerCase();
  if (AT_REFS.some((r) => rest.startsWith(r.toLowerCase()))) return true;
  return AT_WORDS.some((w) => rest.startsWith(w) && (rest.length === w.length || isBlank(rest.charCodeAt(w.length))));
}

function atEdgeEnd(line: string): boolean {
  let e = line.length;
  for (;;) {
    while (e > 0 && isBlank(line.charCodeAt(e - 1))) e--;
    if (line[e - 1] !== ">") break;
    const lt = line.lastIndexOf("<", e - 1);
    if (lt < 0) return false;
    e = lt;
  }
  if (e === 0) return false;
  if (AT_CHARS.includes(line[e - 1]!)) return true;
  const tail = line.slice(Math.max(0, e - 10), e).toLowerCase();
  if (AT_REFS.some((r) => tail.endsWith(r.toLowerCase()))) return true;
  return AT_WORDS.some((w) => tail.endsWith(w) && (tail.length === w.length || isBlank(tail.charCodeAt(tail.length - w.length - 1))));
}

/** [start, end) of the stretches of `text` to read laxly, in order, merged where they touch. */
function laxWindows(text: string): Array<[number, number]> {
  const starts: number[] = [];
  for (let i = 0; i <= text.length; ) {
    starts.push(i);
    const nl = text.indexOf("\n", i);
    if (nl < 0) break;
    i = nl + 1;
  }
  const lineEnd = (k: number) => (k + 1 < starts.length ? starts[k + 1]! - 1 : text.length);
  const windows: Array<[number, number]> = [];
  for (let k = 0; k < starts.length; k++) {
    const line = text.slice(starts[k]!, lineEnd(k));
    const edge = atEdge(line);
    if (edge === 0 && !needsLaxReading(line)) continue;
    const from = edge === -1 || edge === 2 ? Math.max(0, k - 1) : k;
    const to = edge === 1 || edge === 2 ? Math.min(starts.length - 1, k + 1) : k;
    const ws = starts[from]!;
    const we = lineEnd(to);
    const last = windows[windows.length - 1];
    if (last !== undefined && ws <= last[1] + 1) last[1] = Math.max(last[1], we);
    else windows.push([ws, we]);
  }
  return windows;
}

const LOCAL_ASCII = /[a-z0-9._+'=-]/;
const LABEL_ASCII = /[a-z0-9-]/;
const WIDE_LETTER = /[\p{L}\p{N}\p{M}]/u;

function kind(c: string | undefined, ascii: RegExp): 0 | 1 | 2 {
  if (c === undefined) return 0;
  if (c.charCodeAt(0) < 0x80) return ascii.test(c) ? 1 : 0;
  return WIDE_LETTER.test(c) ? 2 : 0;
}

/** The local part and domain around the `@` at `at`, and every reading of them to look up. */
function laxCandidate(t: string, at: number): { start: number; end: number; addresses: string[] } | null {
  const k = kind(t[at - 1], LOCAL_ASCII);
  if (k === 0) return null;
  let s = at;
  while (s > 0 && at - s < MAX_LOCAL && kind(t[s - 1], LOCAL_ASCII) === k) s--;
  const local = t.slice(s, at).replace(/^[._'+=-]+/, "");
  if (local === "") return null;

  const labels: string[] = [];
  let pos = at + 1;
  while (pos - at <= MAX_DOMAIN && labels.length < MAX_LABELS) {
    const lk = kind(t[pos], LABEL_ASCII);
    if (lk === 0) break;
    const ls = pos;
    while (kind(t[pos], LABEL_ASCII) === lk) pos++;
    labels.push(t.slice(ls, pos));
    if (t[pos] !== "." || kind(t[pos + 1], LABEL_ASCII) === 0) break;
    pos++;
  }
  if (labels.length < 2) return null;

  const words = local.split(".");
  const locals: string[] = [];
  for (let i = 0; i < words.length && locals.length < MAX_LOCAL_WORDS; i++) {
    const l = words.slice(i).join(".");
    if (l !== "") locals.push(l);
  }
  const addresses: string[] = [];
  for (const l of locals) {
    for (let n = labels.length; n >= 2; n--) {
      const a = normaliseAddress(`${l}@${labels.slice(0, n).join(".")}`);
      if (a !== null) addresses.push(a);
    }
  }
  return { start: s, end: pos, addresses };
}

