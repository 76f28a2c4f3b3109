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

/** One map per (charset, html): a unit's result depends on both. [text, html] each. */
const maps = {
  utf8: [new Map<string, Unit>(), new Map<string, Unit>()],
  ascii: [new Map<string, Unit>(), new Map<string, Unit>()],
} as const;
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
 * Per map, a guess only: the last part scanned with it, its units in order
 * with their lengths, and which of them differed from the part before it.
 * Where the part being scanned goes on exactly as the last one did from the
 * same unit on (compared in full, octet for octet), those units are taken
 * as they were, many at a time: the same octets from the start of a unit are
 * the same units, since where a unit ends depends only on its own octets up
 * to its hard line break. The last part's final unit, if it does not end
 * with a hard line break, is taken only where it ends this part too.
 * Elsewhere the unit is found, sliced and asked of the map, and the guess
 * updated.
 */
interface LastPart {
  src: string;
  readonly lengths: number[];
  readonly units: Unit[];
  /** 1 where the unit differed from the one before it: the lines that hold a recipient's values. */
  readonly changed: number[];
  /** How many parts in a row the unit was new: differed from the one before and was not in the map. */
  readonly misses: number[];
  /** The final unit ends with a hard line break. */
  endsHard: boolean;
}

const lastParts = new Map<Map<string, Unit>, LastPart>();

function mapFor(charset: "utf-8" | "us-ascii", html: boolean): Map<string, Unit> {
  const pair = charset === "utf-8" ? maps.utf8 : maps.ascii;
  return html ? pair[1] : pair[0];
}

const got: Unit[] = [];

function scanUnits(scanner: Scanner, where: string, body: Buffer, charset: "utf-8" | "us-ascii", html: boolean, label: string): boolean {
  // The decoder's own first check, over the whole part (same refusal).
  if (!isAscii(body)) unparseable(label, "an 8-bit octet in a quoted-printable part (RFC 2045 §6.7 rule 2)");
  const src = body.toString("latin1");
  const map = mapFor(charset, html);
  const n = src.length;
  got.length = 0;
  let last = lastParts.get(map);
  if (last === undefined) {
    last = { src: "", lengths: [], units: [], changed: [], misses: [], endsHard: true };
    lastParts.set(map, last);
  }
  const { lengths, units, changed, misses } = last;
  let prevPos = 0;
  let start = 0;
  let i = 0;
  while (start < n) {
    const same = sameUnits(src, start, prevPos, last, i);
    for (let k = 0; k < same; k++) {
      const u = units[i]!;
      const len = lengths[i]!;
      if (u.open) return opened();
      got.push(u);
      changed[i] = 0;
      misses[i] = 0;
      start += len;
      prevPos += len;
      i++;
    }
    if (start >= n) break;
    const end = unitEnd(src, start);
    const key = src.slice(start, end);
    let u: Unit | undefined;
    // A unit new in each of the last parts (one that holds a recipient's token) is made without
    // asking the map or filling it with units that never recur, but for one part in 16, which
    // finds out whether its units have started to recur. Only a cache is left out: makeUnit is
    // what a lookup would have found.
    const streak = misses[i] ?? 0;
    if (streak >= 8 && (streak & 15) !== 0) {
      u = makeUnit(key, charset, html, label);
      misses[i] = streak + 1;
    } else {
      u = map.get(key);
      if (u === undefined) {
        u = makeUnit(key, charset, html, label);
        remember(map, key, u);
        misses[i] = streak + 1;
      } else {
        misses[i] = 0;
      }
    }
    if (i < units.length) prevPos += lengths[i]!;
    lengths[i] = key.length;
    units[i] = u;
    changed[i] = 1;
    i++;
    start = end;
    if (u.open) return opened();
    got.push(u);
  }
  lengths.length = i;
  units.length = i;
  changed.length = i;
  misses.length = i;
  last.src = src;
  last.endsHard = n === 0 || endsHard(src, n - lengths[i - 1]!, n);
  for (const u of got) scanner.addCollected(where, u.lines);
  got.length = 0;
  return true;

  function opened(): false {
    got.length = 0;
    // Half updated: forget it (the next part is guessed from nothing).
    lastParts.delete(map);
    return false;
  }
}

/**
 * How many of the last part's units, from its unit `i` at `prevPos`, this
 * part repeats from `start`. Compared a run at a time: the units up to the
 * next one that changed last time, then that one alone — most parts of a
 * send differ from the one before in the same few units. A run that does
 * not match is halved until the first unit that differs is found.
 */
function sameUnits(src: string, start: number, prevPos: number, last: LastPart, i: number): number {
  const { lengths, changed } = last;
  const count = lengths.length;
  const finalOpen = !last.endsHard;
  let matched = 0;
  let off = 0;
  while (i + matched < count) {
    const from = i + matched;
    let end = from + 1;
    if (changed[from] === 0) while (end < count && changed[end] === 0) end++;
    const len = runLength(lengths, from, end - from);
    if (sameRun(src, start + off, last.src, prevPos + off, len, end === count && finalOpen)) {
      matched = end - i;
      off += len;
      continue;
    }
    let lo = 0; // units of the run known to match
    let hi = end - from; // a count known not to
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      const at = off + runLength(lengths, from, lo);
      if (sameRun(src, start + at, last.src, prevPos + at, runLength(lengths, from + lo, mid - lo), from + mid === count && finalOpen)) lo = mid;
      else hi = mid;
    }
    return matched + lo;
  }
  return matched;
}

function runLength(lengths: readonly number[], from: number, k: number): number {
  let len = 0;
  for (let j = from; j < from + k; j++) len += lengths[j]!;
  return len;
}

/**
 * Are src[at, at+len) and prev[prevAt, prevAt+len) the same octets? `final`:
 * the run holds the last part's final unit without a hard line break, which
 * must then end this part too.
 * (slice and === rather than startsWith(key, position), which V8 runs several times slower)
 */
function sameRun(src: string, at: number, prev: string, prevAt: number, len: number, final: boolean): boolean {
  if (final ? at + len !== src.length : at + len > src.length) return false;
  return src.slice(at, at + len) === prev.slice(prevAt, prevAt + len);
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
    for (const m of [...maps.utf8, ...maps.ascii]) m.clear();
    rememberedChars = 0;
  }
  // A copy, not the key itself: that is a slice of the whole part, which it would keep alive.
  map.set(own(key), u);
  rememberedChars += key.length;
}
