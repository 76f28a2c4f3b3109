/**
 * A quoted-printable text leaf scanned in units, each unit's work done once
 * per distinct unit: the guard's per-message cost on a newsletter whose
 * parts are the same for everyone but a few lines.
 *
 * A unit is the octets from one hard line break to the next (RFC 2045 §6.7:
 * a line whose last character, trailing whitespace aside, is not "=";
 * soft-broken lines belong to the unit of the line they continue). Its
 * decoding is the decoding of those octets alone — the decoder
 * (transfer.ts) is line-local — and ends with a line break of the decoded
 * text, so the lines the scanner collects from the whole part are the lines
 * collected from each unit, in order (scanner.ts collectLines reads line by
 * line; triggers.ts: no trigger joins two lines). One exception, HTML: a
 * tag left open carries a line on into the next (the scanner reads on to
 * the ">"; a trigger skips tags to their ">"). A unit whose decoded text
 * has a "<" after its last ">" makes the whole part go the ordinary way
 * (decodeLeaf, then Scanner.add over all of it); so does a unit that starts
 * or ends with an at sign in some spelling, whose address may go on in the
 * next or previous line (docs/design.md, "The per-message guard").
 *
 * What is remembered is a pure function of the unit's own octets (and of the
 * charset and HTML-ness, each with its own map), keyed by all of them: every
 * octet of every message is still compared or decoded and scanned — a line
 * holding one recipient's name or token is new, and is decoded, checked for
 * strict quoted-printable and UTF-8, and scanned like any other; a remembered
 * unit matches only octet for octet. Nothing here trusts the composer:
 * test/guard-units.test.ts holds the result equal to the whole-part scan on
 * generated and hostile parts.
 */
import { isAscii } from "node:buffer";
import { unparseable } from "./refusal.ts";
import { atEdge } from "../detect/disguise.ts";
import { collectLines, type Scanner } from "./scanner.ts";
import { decodeLeaf } from "./transfer.ts";

interface Unit {
  /** What collectLines gives for the unit's decoded text. */
  readonly lines: readonly string[];
  /** HTML with a "<" after the last ">": the part is scanned whole. */
  readonly open: boolean;
}

interface Link {
  readonly key: string;
  /** The key ends the part (no line break): it must end the part here too. */
  readonly last: boolean;
  readonly unit: Unit;
}

/** One map per (charset, html): a unit's result depends on both. */
const maps = new Map<string, Map<string, Unit>>();
/** Bounds: some 8 MB of keys at most, forgotten all at once when full (re-learnt from the next message). */
const MAX_REMEMBERED_CHARS = 4_000_000;
/** A unit longer than this is not remembered (a paragraph is a few hundred octets). */
const MAX_UNIT_LENGTH = 8_192;
let rememberedChars = 0;

/** Scans a quoted-printable text/plain or text/html leaf into `scanner`, as decodeLeaf + Scanner.add would. */
export function scanQuotedPrintableLeaf(
  scanner: Scanner,
  where: string,
  body: Buffer,
  charset: "utf-8" | "us-ascii",
  html: boolean,
  label: string,
): void {
  if (scanUnits(scanner, where, body, charset, html, label)) return;
  const { text, ascii } = decodeLeaf(body, "quoted-printable", charset, label);
  scanner.add(where, text, ascii, html);
}

/**
 * Per map, a guess only: the units of the last part scanned with it, in order, with
 * their octets. The unit at the same position is taken when the part's next octets
 * equal its octets (compared in full), which saves finding the unit's end, slicing and
 * hashing it; otherwise the map is asked and the guess replaced.
 */
const lastParts = new Map<Map<string, Unit>, Link[]>();

function mapFor(charset: string, html: boolean): Map<string, Unit> {
  const k = `${charset}/${html ? "html" : "text"}`;
  let m = maps.get(k);
  if (m === undefined) {
    m = new Map();
    maps.set(k, m);
  }
  return m;
}

const got: Unit[] = [];

function scanUnits(scanner: Scanner, where: string, body: Buffer, charset: "utf-8" | "us-ascii", html: boolean, label: string): boolean {
  // The decoder's own first check, over the whole part (same refusal).
  if (!isAscii(body)) unparseable(label, "an 8-bit octet in a quoted-printable part (RFC 2045 §6.7 rule 2)");
  const src = body.toString("latin1");
  const map = mapFor(charset, html);
  const n = src.length;
  got.length = 0;
  let seq = lastParts.get(map);
  if (seq === undefined) {
    seq = [];
    lastParts.set(map, seq);
  }
  let start = 0;
  let i = 0;
  for (; start < n; i++) {
    const guess: Link | undefined = seq[i];
    let u: Unit | undefined;
    // (slice and === rather than startsWith(key, position), which V8 runs several times slower)
    if (guess !== undefined && (guess.last ? start + guess.key.length === n : start + guess.key.length <= n) && src.slice(start, start + guess.key.length) === guess.key) {
      u = guess.unit;
      start += guess.key.length;
    } else {
      const end = unitEnd(src, start);
      const key = src.slice(start, end);
      u = map.get(key);
      if (u === undefined) {
        u = makeUnit(key, charset, html, label);
        remember(map, key, u);
      }
      // A unit that does not end with a hard line break is the part's last: the guess must end the part too.
      if (key.length <= MAX_UNIT_LENGTH) seq[i] = { key: own(key), last: !endsHard(src, start, end), unit: u };
      else seq.length = i; // nothing to guess from here on
      start = end;
    }
    if (u.open) {
      got.length = 0;
      return false;
    }
    got.push(u);
  }
  if (seq.length > i) seq.length = i;
  for (const u of got) scanner.addCollected(where, u.lines);
  got.length = 0;
  return true;
}

/** Does src[start, end) end with a hard line break (an LF whose line is not soft-broken)? */
function endsHard(src: string, start: number, end: number): boolean {
  if (end <= start || src.charCodeAt(end - 1) !== 0x0a) return false;
  return !softBreak(src, Math.max(start, src.lastIndexOf("\n", end - 2) + 1), end - 1);
}

/** Offset just past the hard line break ending the unit that starts at `start` (or the end). */
function unitEnd(src: string, start: number): number {
  let lineStart = start;
  for (let lf = src.indexOf("\n", start); lf >= 0; lf = src.indexOf("\n", lf + 1)) {
    if (!softBreak(src, lineStart, lf)) return lf + 1;
    lineStart = lf + 1;
  }
  return src.length;
}

/** Rule 5: "=" ending the line that runs from `lineStart` to the LF at `lf` (CR and trailing whitespace aside). */
function softBreak(src: string, lineStart: number, lf: number): boolean {
  let e = lf;
  if (e > lineStart && src.charCodeAt(e - 1) === 0x0d) e--;
  while (e > lineStart && (src.charCodeAt(e - 1) === 0x20 || src.charCodeAt(e - 1) === 0x09)) e--;
  return e > lineStart && src.charCodeAt(e - 1) === 0x3d;
}

function makeUnit(key: string, charset: "utf-8" | "us-ascii", html: boolean, label: string): Unit {
  const { text, ascii } = decodeLeaf(Buffer.from(key, "latin1"), "quoted-printable", charset, label);
  if (html && text.lastIndexOf("<") > text.lastIndexOf(">")) return OPEN;
  // An at sign in some spelling at the unit's start or end: the address may go on in the line
  // before or after, which only the whole-part scan joins (scanner.ts collectLines).
  if (atEdge(text) !== 0) return OPEN;
  const lines: string[] = [];
  collectLines(text, ascii, html, lines);
  return { lines, open: false };
}

const OPEN: Unit = Object.freeze({ lines: Object.freeze([]) as readonly string[], open: true });

/** `s` in storage of its own (a slice keeps its whole parent string alive). */
function own(s: string): string {
  return ` ${s}`.slice(1);
}

function remember(map: Map<string, Unit>, key: string, u: Unit): void {
  if (key.length > MAX_UNIT_LENGTH) return;
  if (rememberedChars + key.length > MAX_REMEMBERED_CHARS) {
    for (const m of maps.values()) m.clear();
    lastParts.clear();
    rememberedChars = 0;
  }
  // A copy, not the key itself: that is a slice of the whole part, which it would keep alive.
  map.set(own(key), u);
  rememberedChars += key.length;
}
