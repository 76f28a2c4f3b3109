/**
 * A string that remembers where each of its characters came from.
 *
 * Leak findings must point at the line and column of the ORIGINAL file
 * (docs/design.md, "Address detection": a finding names line and column), yet the
 * text we search has been decoded, normalised and de-obfuscated, and every one
 * of those steps changes lengths (`&#64;` → `@`, `ｔ` stays one char, a
 * zero-width space disappears, ` [dot] ` → `.`). So every transform goes
 * through `replaceMapped`, which carries, for each UTF-16 code unit of the
 * new text, the half-open span `[starts[i], ends[i])` of original text that
 * produced it. A span of found text `[s, e)` maps back to
 * `[starts[s], ends[e - 1])`.
 *
 * The identity mapping is kept implicit (`null` arrays): a 400 KB body that
 * needs no decoding, the usual case, then costs no megabytes of arrays, whose
 * first-touch page faults alone were measurable (bench/README.md, "Figures behind the code").
 */

export interface MappedString {
  readonly text: string;
  /** Original offset of the first code unit that produced `text[i]`; null: `i`. */
  readonly starts: Int32Array | null;
  /** Original offset just past the last code unit that produced `text[i]`; null: `i + 1`. */
  readonly ends: Int32Array | null;
}

/** The identity mapping: every character maps to itself. */
export function mapped(text: string): MappedString {
  return { text, starts: null, ends: null };
}

function startOf(ms: MappedString, i: number): number {
  return ms.starts === null ? i : ms.starts[i]!;
}

function endOf(ms: MappedString, i: number): number {
  return ms.ends === null ? i + 1 : ms.ends[i]!;
}

/**
 * Like `String.prototype.replace` with a global regex, but keeps the mapping.
 * Every code unit of a replacement maps to the whole span of the match it
 * replaces, so positions are never finer than one match (an entity, one
 * percent escape, one obfuscation word): exactly what a finding needs.
 * Returning the match unchanged keeps the finer original mapping; returns the
 * same object when nothing changed, so passes over clean text cost one scan.
 */
export function replaceMapped(
  ms: MappedString,
  regex: RegExp,
  replacer: (match: RegExpExecArray) => string,
): MappedString {
  if (!regex.global) throw new TypeError("replaceMapped needs a global (g) regex");
  const src = ms.text;
  type Piece = { from: number; to: number } | { repl: string; at: number; len: number };
  const pieces: Piece[] = [];
  let last = 0;
  let total = 0;
  let changed = false;
  regex.lastIndex = 0;
  for (let m = regex.exec(src); m !== null; m = regex.exec(src)) {
    const len = m[0].length;
    if (len === 0) {
      // An empty match cannot be mapped to a span; step over it as String.replace does.
      regex.lastIndex = m.index + 1;
      continue;
    }
    const repl = replacer(m);
    if (repl === m[0]) continue;
    changed = true;
    if (m.index > last) {
      pieces.push({ from: last, to: m.index });
      total += m.index - last;
    }
    pieces.push({ repl, at: m.index, len });
    total += repl.length;
    last = m.index + len;
  }
  if (!changed) return ms;
  if (last < src.length) {
    pieces.push({ from: last, to: src.length });
    total += src.length - last;
  }
  const starts = new Int32Array(total);
  const ends = new Int32Array(total);
  const out: string[] = [];
  let pos = 0;
  for (const p of pieces) {
    if ("from" in p) {
      out.push(src.slice(p.from, p.to));
      if (ms.starts === null || ms.ends === null) {
        for (let i = p.from, j = pos; i < p.to; i++, j++) {
          starts[j] = i;
          ends[j] = i + 1;
        }
      } else {
        starts.set(ms.starts.subarray(p.from, p.to), pos);
        ends.set(ms.ends.subarray(p.from, p.to), pos);
      }
      pos += p.to - p.from;
    } else {
      out.push(p.repl);
      const s = startOf(ms, p.at);
      const e = endOf(ms, p.at + p.len - 1);
      starts.fill(s, pos, pos + p.repl.length);
      ends.fill(e, pos, pos + p.repl.length);
      pos += p.repl.length;
    }
  }
  return { text: out.join(""), starts, ends };
}

/** The original span `{ offset, length }` of `ms.text.slice(s, e)` (requires s < e). */
export function originalSpan(ms: MappedString, s: number, e: number): { offset: number; length: number } {
  const offset = startOf(ms, s);
  return { offset, length: endOf(ms, e - 1) - offset };
}
