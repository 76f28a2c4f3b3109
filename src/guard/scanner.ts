/**
 * Address scanning for the guard: header values and decoded text parts go
 * in; the first address that is not the recipient's, not ours and not
 * allowlisted refuses the message. Extraction is the static checks' own
 * (src/detect/extract.ts: character references, percent and escape
 * decoding, NFKC, invisible characters dropped, `＠`, `[at]`, `アットマーク`...),
 * so the guard sees every spelling the checks see.
 *
 * Weak candidates (the spaced word, "alice at example dot com") are
 * ignored: prose such as "available at example.com" produces them, and a
 * guard that aborted a million-message send on a sentence would soon be
 * switched off. The static checks still hold weak ones against the lists.
 *
 * Speed (the guard runs on every message): the extractor keeps positions for
 * line/column findings and makes several passes, costly per KB. So
 * only lines that can hold a strong address are collected (triggers.ts),
 * each distinct line once, and the extractor runs once per message over
 * those it has not seen before: a line's addresses depend on nothing but
 * the line, and the lines of a newsletter's footer, sender headers and
 * template repeat in every message, so they are remembered (bounded).
 */
import { mask } from "../address/mask.ts";
import { atEdge, disguisedAddresses, mayHoldPayload, needsLaxReading } from "../detect/disguise.ts";
import { findAddresses } from "../detect/extract.ts";
import { payloads } from "../detect/payload.ts";
import { isAllowed } from "./allowed.ts";
import { decodeEncodedWords } from "./encoded-word.ts";
import { UNUSUAL_NAME, type Field } from "./header-block.ts";
import { visibleText } from "./html-visible.ts";
import type { GuardContext } from "./port.ts";
import { refuse } from "./refusal.ts";
import { triggerLines } from "./triggers.ts";

/**
 * What a line holds: the distinct strong addresses (held against the
 * allowlist and the list), and every other candidate of the weak and lax
 * readings (only looked up in the list), normalised.
 */
interface LineFinds {
  readonly strong: readonly string[];
  readonly lax: readonly string[];
}

/** Line → what it holds. */
const seenLines = new Map<string, LineFinds>();
/** Bounds: some 8 MB of lines at most; forgotten all at once when full (the next message re-learns its template). */
const MAX_REMEMBERED_CHARS = 4_000_000;
const MAX_REMEMBERED_LENGTH = 4_096;
let rememberedChars = 0;
const NONE: readonly string[] = Object.freeze([]);
const NOTHING: LineFinds = Object.freeze({ strong: NONE, lax: NONE });

export class Scanner {
  private readonly lines: string[] = [];
  private readonly wheres: string[] = [];
  private readonly collected = new Set<string>();

  /**
   * Collects the lines of `text` that may hold a strong address, labelled
   * `where`. `ascii`: the text is known to be ASCII. `html`: also collect
   * each such line as a reader shows it (html-visible.ts), so that an
   * address split by a tag or a comment is found; a tag left open at the end
   * of a line is read on to its end.
   *
   * Like the static checks, this reads line by line: an obfuscation spread
   * over several source lines (`hanako⏎[at]⏎shop.example`, which HTML shows
   * on one line) is not put together; the list checks read a field's
   * value line by line too.
   */
  add(where: string, text: string, ascii = false, html = false, header = false): void {
    if (header) {
      this.addCollected(where, headerLines(text));
      return;
    }
    const out = this.scratch;
    out.length = 0;
    collectLines(text, ascii, html, out, header);
    for (const l of out) this.push(l, where);
    out.length = 0;
  }

  /**
   * Lines already collected elsewhere (collectLines over the same text), in
   * order, and remembered there: strings of their own, kept alive anyway,
   * which the line cache then keys by themselves (a lookup by the very same
   * string is found without comparing its characters again).
   */
  addCollected(where: string, lines: readonly string[]): void {
    for (const l of lines) this.push(l, where, true);
  }

  private readonly scratch: string[] = [];
  /** Per line: a string of its own (addCollected), not a slice of a whole part. */
  private readonly owned: boolean[] = [];

  private push(line: string, where: string, owned = false): void {
    if (this.collected.has(line)) return;
    this.collected.add(line);
    this.lines.push(line);
    this.wheres.push(where);
    this.owned.push(owned);
  }

  /**
   * Refuses at the first address (in the order collected) that is on the
   * list and not the recipient, in any reading, or, read strictly, that
   * `ctx` does not allow.
   */
  check(ctx: GuardContext): void {
    const n = this.lines.length;
    if (n === 0) return;
    const found: Array<LineFinds | undefined> = new Array(n);
    const fresh: number[] = [];
    for (let i = 0; i < n; i++) {
      const known = seenLines.get(this.lines[i]!);
      if (known === undefined) fresh.push(i);
      else found[i] = known;
    }
    if (fresh.length > 0) this.extract(fresh, found);
    const listed = ctx.listed;
    for (let i = 0; i < n; i++) {
      const f = found[i] ?? NOTHING;
      if (listed !== undefined) {
        for (const a of f.strong) if (a !== ctx.recipient && listed(a)) refuseListed(a, this.wheres[i]!);
        for (const a of f.lax) if (a !== ctx.recipient && listed(a)) refuseListed(a, this.wheres[i]!);
      }
      for (const a of f.strong) {
        if (isAllowed(a, ctx)) continue;
        const where = this.wheres[i]!;
        const masked = mask(a);
        refuse(
          "foreign-address",
          where,
          `${masked} in ${where} is not the recipient, not one of our own addresses and not allowlisted ` +
            "(leakage.allow_addresses, leakage.allow_domains): the whole send is aborted, not just this message",
          masked,
        );
      }
    }
  }

  /**
   * One strict extractor call over the lines not seen before, each hit
   * assigned back to its line; then, per line, the payloads read strictly
   * and the lax reading where the line has anything for it.
   */
  private extract(fresh: readonly number[], found: Array<LineFinds | undefined>): void {
    const starts: number[] = [];
    let pos = 0;
    for (const i of fresh) {
      starts.push(pos);
      pos += this.lines[i]!.length + 1;
    }
    const per: string[][] = fresh.map(() => []);
    const weak: string[][] = fresh.map(() => []);
    for (const f of findAddresses(fresh.map((i) => this.lines[i]!).join("\n"))) {
      const k = lastAtOrBefore(starts, f.offset);
      const into = f.strong ? per[k]! : weak[k]!;
      if (!into.includes(f.address)) into.push(own(f.address)); // remembered below: not a slice of the joined text
    }
    for (let k = 0; k < fresh.length; k++) {
      const line = this.lines[fresh[k]!]!;
      const lax = laxFinds(line, per[k]!, weak[k]!);
      const list: LineFinds = per[k]!.length === 0 && lax.length === 0 ? NOTHING : { strong: per[k]!, lax };
      found[fresh[k]!] = list;
      if (line.length > MAX_REMEMBERED_LENGTH) continue;
      if (rememberedChars + line.length > MAX_REMEMBERED_CHARS) {
        seenLines.clear();
        rememberedChars = 0;
      }
      // A line of a whole decoded part is a slice of it, and a remembered slice would keep every
      // message's part alive (~0.5 KB a message at a million messages): a copy of it is kept.
      seenLines.set(this.owned[fresh[k]!] ? line : own(line), list);
      rememberedChars += line.length;
    }
  }
}

/**
 * Strict addresses in the line's payloads (a `data:` URI, an encoded-word:
 * decode and scan) join `strong`; the weak and lax readings' candidates not
 * already there are returned, to be looked up.
 */
function laxFinds(line: string, strong: string[], weak: readonly string[]): readonly string[] {
  const lax: string[] = [];
  if (line.includes("data:") || line.includes("=?")) {
    for (const p of payloads(line, false)) {
      for (const f of findAddresses(p.text)) {
        const into = f.strong ? strong : lax;
        if (!into.includes(f.address)) into.push(own(f.address));
      }
    }
  }
  for (const a of weak) if (!strong.includes(a) && !lax.includes(a)) lax.push(a);
  // The lax reading only where the line has anything for it (needsLaxReading, a payload): the
  // lines that change per message hold the recipient's mailto and name, and a lax reading of each
  // cost more than the rest of the guard. A line at an at-sign edge is joined to its neighbour by
  // the whole-part reading (laxLines), not here.
  if (!needsLaxReading(line) && !mayHoldPayload(line)) return lax.length === 0 ? NONE : lax;
  for (const d of disguisedAddresses(line)) {
    if (!strong.includes(d.address) && !lax.includes(d.address)) lax.push(own(d.address));
  }
  return lax.length === 0 ? NONE : lax;
}

function refuseListed(a: string, where: string): never {
  const masked = mask(a);
  refuse(
    "foreign-address",
    where,
    `${masked} in ${where} is on the list being sent (or suppressed) and is not this message's recipient, ` +
      "in some spelling of it: the whole send is aborted, not just this message",
    masked,
  );
}

/**
 * What Scanner.add collects from `text`, appended to `out` in order: each
 * line that may hold a strong address (triggers.ts) or something only the
 * lax reading reads (disguise.ts), with the line before or after where an
 * at sign in some spelling starts or ends it, and, for HTML, each such line
 * read on while a tag is open at its end, and that block as a reader shows it.
 */
export function collectLines(text: string, ascii: boolean, html: boolean, out: string[], header = false): void {
  const starts = mergeStarts(triggerLines(text, ascii, html), laxLines(text, header));
  let covered = -1;
  for (let s of starts) {
    if (s <= covered) continue;
    let e = lineEnd(text, s);
    const edge = atEdge(text.slice(s, e));
    if ((edge === -1 || edge === 2) && s > 0) s = text.lastIndexOf("\n", s - 2) + 1;
    if ((edge === 1 || edge === 2) && e < text.length) e = lineEnd(text, e + 1);
    if (!html) {
      out.push(text.slice(s, e));
      continue;
    }
    let block = text.slice(s, e);
    while (e < text.length && block.lastIndexOf("<") > block.lastIndexOf(">")) {
      const gt = text.indexOf(">", e);
      if (gt < 0) break;
      e = lineEnd(text, gt);
      block = text.slice(s, e);
    }
    covered = e;
    out.push(block);
    if (block.includes("<")) out.push(visibleText(block));
  }
}

/**
 * Starts of the lines needing the lax reading, holding a payload, or with an
 * at sign in some spelling at an edge. A header value's encoded-words are
 * decoded by scanField already: there only `data:` and base64 count.
 */
function laxLines(text: string, header: boolean): number[] {
  const out: number[] = [];
  const payload = (t: string) => (header ? (t.includes("data:") || /data:/i.test(t)) : mayHoldPayload(t));
  // One test of the whole text first: most header values and parts have nothing for the lax reading.
  if (!needsLaxReading(text) && atEdge(text) === 0 && !atLineStart(text) && !payload(text)) return out;
  for (let s = 0; s < text.length; ) {
    const e = lineEnd(text, s);
    const line = text.slice(s, e);
    if (needsLaxReading(line) || atEdge(line) !== 0 || payload(line)) out.push(s);
    s = e + 1;
  }
  return out;
}

/** Does a line of `text` start with an at sign that may go on an address (not a layout's `@media`)? */
function atLineStart(text: string): boolean {
  for (let i = text.indexOf("\n@"); i >= 0; i = text.indexOf("\n@", i + 2)) {
    if (atEdge(text.slice(i + 1, i + 41)) !== 0) return true;
  }
  return false;
}

/** Two ascending lists of offsets as one, each once. */
function mergeStarts(a: readonly number[], b: readonly number[]): number[] {
  if (b.length === 0) return a as number[];
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

/** What collectLines gives for a header value, each line a string of its own. */
function headerLines(value: string): readonly string[] {
  const out: string[] = [];
  collectLines(value, false, false, out, true);
  return out.length === 0 ? NONE : out.map(own);
}

/**
 * What scanField collects from a header value, remembered by the raw value:
 * most header values (Date, From, Content-Type, List-Id…, a Subject that
 * differs only by a first name) recur across the messages of a send, and
 * their RFC 2047 decoding and the lax reading's tests cost more than the
 * rest of the header scan. A pure function of the value (a value whose
 * decoding refuses is never remembered, so it refuses every time); bounded
 * like the line cache.
 */
const fieldCache = new Map<string, readonly string[]>();
const MAX_FIELD_VALUES = 10_000;

function fieldLines(value: string, where: string): readonly string[] {
  let lines = fieldCache.get(value);
  if (lines === undefined) {
    const decoded = decodeEncodedWords(value, where);
    lines = headerLines(decoded);
    // A reader whose RFC 2047 decoding differs from ours shows the raw form.
    if (decoded !== value) lines = [...lines, ...headerLines(value)];
    if (value.length <= MAX_REMEMBERED_LENGTH) {
      if (fieldCache.size >= MAX_FIELD_VALUES) fieldCache.clear();
      fieldCache.set(own(value), lines);
    }
  }
  return lines;
}

/** `s` in storage of its own (a slice in V8 points into its parent string and keeps all of it alive). */
function own(s: string): string {
  return ` ${s}`.slice(1);
}

function lineEnd(text: string, from: number): number {
  const e = text.indexOf("\n", from);
  return e < 0 ? text.length : e;
}

/** Index of the last element of ascending `a` that is <= `x` (a[0] is 0). */
function lastAtOrBefore(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A header's value (RFC 2047-decoded and, where that changed it, raw too) and an unusual name. */
export function scanField(scanner: Scanner, f: Field, where: string): void {
  scanner.addCollected(where, fieldLines(f.value, where));
  if (f.label === UNUSUAL_NAME) scanner.add(where, f.name, false, false, true);
}
