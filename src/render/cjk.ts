/**
 * Japanese (and Chinese) text in both parts: no space at a soft line break
 * between two CJK characters, and a text part wrapped at a readable width
 * without splitting a character. See docs/design.md, "Layout and pictures".
 *
 * Hangul is not included: Korean separates words with spaces, so its soft
 * breaks stay spaces (as CSS Text 3 §4.1.3 segment-break transformation does).
 */

/** Han, kana, the CJK symbols and punctuation block, full-width and half-width forms. */
const CJK_CLASS =
  "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\u3000-\\u303F\\u30FC\\uFF01-\\uFF60\\uFFE0-\\uFFE6";
const CJK_CHAR = new RegExp(`[${CJK_CLASS}]`, "u");

/** Inline tags a soft break may sit beside: `日本<strong>語</strong>\n次の行`. */
const INLINE_CLOSE = "(?:</(?:strong|em|b|i|a|del|s|code|span|u|small|mark)>)*";
const INLINE_OPEN = "(?:<(?:strong|em|b|i|a|del|s|code|span|u|small|mark)(?:\\s[^<>]*)?>)*";
const PRE = /<pre[\s>][\s\S]*?<\/pre>/gi;
const CJK_FIRST = new RegExp(`^[${CJK_CLASS}]`, "u");

/**
 * Removes the line break (which a browser shows as a space) between two CJK
 * characters in rendered HTML, outside `<pre>`. Markdown's soft line break is
 * a "\n" in marked's output; a hard break (`<br>`) is left alone.
 * `placeholder` (a regex source) matches a placeholder's marker: a break
 * between a CJK character and a placeholder goes too, since a value in a
 * Japanese sentence is Japanese far more often than not (never between two
 * placeholders: nothing is known of either value).
 */
export function joinCjkSoftBreaks(html: string, placeholder?: string): string {
  const side = placeholder === undefined ? `[${CJK_CLASS}]` : `(?:[${CJK_CLASS}]|${placeholder})`;
  const softBreak = new RegExp(`(?<=(${side})${INLINE_CLOSE})\\n(?=${INLINE_OPEN}(${side}))`, "gu");
  const join = (s: string) =>
    s.replace(softBreak, (m, a: string, b: string) => (CJK_FIRST.test(a) || CJK_FIRST.test(b) ? "" : m));
  let out = "";
  let last = 0;
  for (const m of html.matchAll(PRE)) {
    out += join(html.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + join(html.slice(last));
}

/** Text-part width in columns; a wide (CJK) character takes two. RFC 5322 §2.1.1 recommends at most 78. */
export const TEXT_COLUMNS = 72;

/** East Asian Wide and Fullwidth (UAX #11), as far as mail text needs: CJK, Hangul, full-width forms, emoji. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;

/** Japanese line-breaking rules (kinsoku, JIS X 4051): never at the start of a line. */
const NO_START = /^[、。，．・：；？！ー～）」』】〕〉》〙〗｝］ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々〻‐゠–〜?!)\]},.:;]/u;
/** Never at the end of a line. */
const NO_END = /^[（「『【〔〈《〘〖｛［(\[{]$/u;

/**
 * What the patterns above say of one BMP code unit, asked once per code unit and then read from a
 * table: the wrap of a line that holds a recipient's value runs once per message, and a regular
 * expression per character was most of its cost (bench/README.md, "Figures behind the code").
 * Bit 0: known; then one bit per pattern. A grapheme of more than one code unit (a surrogate pair,
 * a cluster with marks) still goes to the patterns themselves.
 */
const KNOWN = 1;
const IS_EXTEND = 2;
const IS_WIDE = 4;
const IS_CJK = 8;
const IS_NO_START = 16;
const IS_NO_END = 32;
const classes = new Uint8Array(0x10000);

function classOf(unit: number): number {
  let c = classes[unit]!;
  if (c === 0) {
    const ch = String.fromCharCode(unit);
    c = KNOWN;
    if (EXTENDS.test(ch)) c |= IS_EXTEND;
    if (WIDE.test(ch)) c |= IS_WIDE;
    if (CJK_CHAR.test(ch)) c |= IS_CJK;
    if (NO_START.test(ch)) c |= IS_NO_START;
    if (NO_END.test(ch)) c |= IS_NO_END;
    classes[unit] = c;
  }
  return c;
}

/** Does grapheme `g` match the pattern `re`, which `bit` stands for? */
function is(g: string, bit: number, re: RegExp): boolean {
  return g.length === 1 ? (classOf(g.charCodeAt(0)) & bit) !== 0 : re.test(g);
}

/** No code unit above U+007F: every grapheme one character of one column. */
function isAscii(line: string): boolean {
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Code points that join the previous one into one grapheme: marks, ZWJ and what follows it, selectors, skin tones, tags. */
const EXTENDS = /^[\p{M}\u200D\uFE00-\uFE0F\u{1F3FB}-\u{1F3FF}\u{E0020}-\u{E007F}]$/u;

/**
 * Grapheme clusters, closely enough for wrapping (a full UAX #29 segmenter,
 * Intl.Segmenter, costs several times more per recipient line): a code point
 * with the marks, joiners and modifiers that follow it; regional-indicator
 * flags in pairs. A cluster is wide (two columns) when any of its code points
 * is. Read in place, building no strings (clusterBounds below).
 *
 * The display width of `s`: the widths of its clusters, summed.
 */
function displayWidth(s: string): number {
  clusterBounds(s, scratchBounds, scratchWidths);
  let w = 0;
  for (const x of scratchWidths) w += x;
  return w;
}

const scratchBounds: number[] = [];
const scratchWidths: number[] = [];

/** The clusters of `s`: where each starts (then, last, the length of `s`), and its width. */
function clusterBounds(s: string, bounds: number[], widths: number[]): void {
  bounds.length = 0;
  widths.length = 0;
  let joinNext = false;
  /** The cluster being read is one regional indicator, so far. */
  let loneRegional = false;
  for (let i = 0; i < s.length; ) {
    const c = s.charCodeAt(i);
    let cls: number;
    let regional = false;
    let n = 1;
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = s.slice(i, i + 2);
      n = 2;
      regional = cp >= "\u{1F1E6}" && cp <= "\u{1F1FF}";
      cls = (EXTENDS.test(cp) ? IS_EXTEND : 0) | (WIDE.test(cp) ? IS_WIDE : 0);
    } else {
      cls = classOf(c);
    }
    if (bounds.length > 0 && (joinNext || (cls & IS_EXTEND) !== 0 || (regional && loneRegional))) {
      if ((cls & IS_WIDE) !== 0) widths[widths.length - 1] = 2;
      loneRegional = false;
    } else {
      bounds.push(i);
      widths.push((cls & IS_WIDE) !== 0 ? 2 : 1);
      loneRegional = regional;
    }
    joinNext = n === 1 && c === 0x200d;
    i += n;
  }
  bounds.push(s.length);
}

/** Display width, stopping early once it is over `limit`. */
function widthOver(line: string, limit: number): boolean {
  let w = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    w += c < 0x1100 ? 1 : 2; // an upper bound: every code unit from U+1100 up counted wide
    if (w > limit) return true;
  }
  return false;
}

/** Is there a break opportunity between graphemes `a` and `b` (neither a space)? Only between two CJK characters. */
function cjkBreak(a: string, b: string): boolean {
  return is(a, IS_CJK, CJK_CHAR) && is(b, IS_CJK, CJK_CHAR) && !is(b, IS_NO_START, NO_START) && !is(a, IS_NO_END, NO_END);
}

/**
 * Wraps every line of `text` at `columns` display columns: at spaces (the
 * space is dropped at the break) and between two CJK characters, never
 * inside a grapheme cluster, a word, a URL or an address (a token longer
 * than the width stays whole on its own line). Line-local: the result for a
 * text is the results for its lines joined, which is what lets the
 * compose-once fast path wrap only the lines that hold a value.
 * Lines are split at "\r\n", "\r" and "\n", each kept as it was.
 */
export function wrapText(text: string, columns: number = TEXT_COLUMNS): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x0a && c !== 0x0d) continue;
    const end = c === 0x0d && text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
    out += wrapLine(text.slice(from, i), columns) + text.slice(i, end);
    from = end;
    i = end - 1;
  }
  return out + wrapLine(text.slice(from), columns);
}

/** The clusters of the line being wrapped (clusterBounds). */
const bounds: number[] = [];
const widths: number[] = [];

/** cjkBreak for the graphemes line[a, b) and line[b, c). */
function cjkBreakAt(line: string, a: number, b: number, c: number): boolean {
  if (b - a === 1 && c - b === 1) {
    const x = classOf(line.charCodeAt(a));
    const y = classOf(line.charCodeAt(b));
    return (x & IS_CJK) !== 0 && (y & IS_CJK) !== 0 && (y & IS_NO_START) === 0 && (x & IS_NO_END) === 0;
  }
  return cjkBreak(line.slice(a, b), line.slice(b, c));
}

/**
 * One line wrapped: the line being built is `pre` (nothing, then the
 * indent) and line[from, here); `breakAt`, where it may end, is an offset
 * into the line.
 */
function wrapLine(line: string, columns: number): string {
  if (!widthOver(line, columns)) return line; // the common case, in one cheap pass
  // An ASCII line (a footer's unsubscribe URL, English prose: the lines that hold a recipient's
  // value and so are wrapped once per message) has one-column graphemes of one character each and
  // no CJK break.
  const ascii = isAscii(line);
  // (An ASCII line's clusters are its characters, of one column each: not listed.)
  if (!ascii) {
    clusterBounds(line, bounds, widths);
    let total = 0;
    for (const x of widths) total += x;
    if (total <= columns) return line;
  }

  // A quoted line (html-to-text's "> ") keeps its mark on every line it wraps into;
  // a list item's lines line up under its text.
  const lead = /^(?:> ?)+|^\s*(?:[*+-]|\d+\.)\s+|^\s+/.exec(line)?.[0] ?? "";
  const indent = lead.startsWith(">") ? lead : " ".repeat(lead.length);
  const lines: string[] = [];
  let pre = "";
  let from = 0;
  let curWidth = 0;
  let breakAt = -1;
  let prevSpace = false;
  const count = ascii ? line.length : widths.length;
  for (let k = 0; k < count; k++) {
    const g = ascii ? k : bounds[k]!;
    const gEnd = ascii ? k + 1 : bounds[k + 1]!;
    const w = ascii ? 1 : widths[k]!;
    const c = line.charCodeAt(g);
    if (gEnd - g === 1 && (c === 0x20 || c === 0x09)) {
      // The first space of a run is the break; the spaces after a break are dropped.
      if (pre.length + (g - from) > 0 && !prevSpace) breakAt = g;
      curWidth += w;
      prevSpace = true;
      continue;
    }
    if (!ascii && k > 0 && !prevSpace && cjkBreakAt(line, bounds[k - 1]!, g, gEnd)) breakAt = g;
    if (curWidth + w > columns && breakAt >= 0 && pre.length + (breakAt - from) > (lines.length === 0 ? lead.length : indent.length)) {
      lines.push((pre + line.slice(from, breakAt)).replace(/[ \t]+$/, ""));
      let rest = breakAt;
      while (rest < g && (line.charCodeAt(rest) === 0x20 || line.charCodeAt(rest) === 0x09)) rest++;
      pre = indent;
      from = rest;
      curWidth = ascii ? pre.length + (g - from) : displayWidth(pre + line.slice(from, g));
      breakAt = -1;
    }
    curWidth += w;
    prevSpace = false;
  }
  lines.push(pre + line.slice(from));
  return lines.join("\n");
}

/** For test/layout.test.ts only: the table and the one-pass width held to the patterns they stand for. */
export const widthInternals = { classOf, displayWidth, patterns: { EXTENDS, WIDE, CJK_CHAR, NO_START, NO_END } } as const;
