/**
 * Where the Markdown source holds code: fenced code blocks (CommonMark 0.31
 * §4.5), inline code spans (§6.1), and HTML `<pre>`/`<code>` elements. Some
 * checks skip code ("null" in a code sample is meant); none of the leak or
 * link checks do, because code still reaches the reader.
 *
 * Indented code blocks (§4.4) are not recognised: four spaces also indent
 * list continuations, and telling them apart needs a full parser. Missing
 * one only means a word in it is checked like prose.
 */

export type Range = readonly [start: number, end: number];

const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})(.*)$/;

export function codeRanges(text: string): Range[] {
  const ranges: Range[] = [];
  const fenced = fencedBlocks(text);
  ranges.push(...fenced);
  ranges.push(...codeSpans(text, fenced));
  for (const m of text.matchAll(/<(pre|code)\b[^>]*>[\s\S]*?<\/\1\s*>/gi)) {
    ranges.push([m.index, m.index + m[0].length]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  return ranges;
}

function fencedBlocks(text: string): Range[] {
  const out: Range[] = [];
  let open: { char: string; len: number; start: number } | null = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf("\n", lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, "");
    const m = FENCE_OPEN.exec(line);
    if (open === null) {
      // §4.5: a backtick fence's info string may not contain a backtick.
      if (m && !(m[2]![0] === "`" && m[3]!.includes("`"))) {
        open = { char: m[2]![0]!, len: m[2]!.length, start: lineStart };
      }
    } else if (m && m[2]![0] === open.char && m[2]!.length >= open.len && m[3]!.trim() === "") {
      out.push([open.start, lineEnd]);
      open = null;
    }
    if (lineEnd === text.length) break;
    lineStart = lineEnd + 1;
  }
  // An unclosed fence runs to the end of the document (§4.5).
  if (open !== null) out.push([open.start, text.length]);
  return out;
}

function codeSpans(text: string, skip: Range[]): Range[] {
  const out: Range[] = [];
  const runs = [...text.matchAll(/`+/g)].filter((m) => !inRanges(skip, m.index));
  for (let i = 0; i < runs.length; i++) {
    const open = runs[i]!;
    for (let j = i + 1; j < runs.length; j++) {
      const close = runs[j]!;
      // A span does not outlive its paragraph: stop at a blank line.
      if (/\n[ \t]*\r?\n/.test(text.slice(open.index, close.index))) break;
      if (close[0].length === open[0].length) {
        out.push([open.index, close.index + close[0].length]);
        i = j;
        break;
      }
    }
  }
  return out;
}

/** Is `offset` inside one of the sorted, possibly overlapping ranges? */
export function inRanges(ranges: readonly Range[], offset: number): boolean {
  // Ranges are few (code in a newsletter); a linear scan is clearer than a search.
  for (const [s, e] of ranges) {
    if (s > offset) return false;
    if (offset < e) return true;
  }
  return false;
}
