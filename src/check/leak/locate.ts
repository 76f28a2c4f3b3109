/**
 * Offsets to 1-based line and column, where content checks place their
 * findings (findings/finding.ts builds them).
 *
 * Columns count UTF-16 code units, SARIF 2.1.0's default `columnKind`
 * (§3.30.2 "utf16CodeUnits"); for text in the Basic Multilingual Plane,
 * Japanese included, that is one per character. Lines break at LF, CRLF and
 * a lone CR, as editors count them.
 */
import type { Position } from "../../findings/finding.ts";

export class LineIndex {
  private readonly lineStarts: number[] = [0];

  /**
   * `baseLine`/`baseColumn` place `text[0]` inside a larger file: the subject
   * starts at some line and column of newsletter.yml.
   */
  constructor(
    text: string,
    private readonly baseLine = 1,
    private readonly baseColumn = 1,
  ) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) this.lineStarts.push(i + 1);
    }
  }

  at(offset: number): Position {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    const col = offset - this.lineStarts[lo]!;
    return { line: this.baseLine + lo, column: lo === 0 ? this.baseColumn + col : col + 1 };
  }
}
