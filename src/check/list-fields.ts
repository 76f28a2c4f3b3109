/**
 * What the list check learns about each non-email column in its one pass
 * (docs/design.md, "Address detection"), kept per column so that the
 * newsletter check can judge the columns its placeholders use:
 *
 * - unclean values: a line break, a control or format character (bidi
 *   controls included) or a lookalike `@`/`.` (lookalike.ts) — refused in a
 *   column a placeholder uses, named by list, row and column, value masked;
 * - candidates of the lax reading (disguise.ts) and of decoded payloads
 *   (base64, RFC 2047), with the row's own address, to be looked up in every
 *   list once all are loaded;
 * - statistics for the manifest (longest value and its row, character
 *   classes seen, how many values look like an address or a URL) and the
 *   riskiest rows for the approval copy.
 *
 * Per field the cost is a length compare and a few character tests; the
 * costly readings run only behind a cheap precheck.
 */
import { mask } from "../address/mask.ts";
import type { FieldPositions } from "../load/csv.ts";
import { finding, type Finding } from "../findings/finding.ts";
import { disguisedAddresses, mayHoldPayload, needsLaxReading } from "../detect/disguise.ts";
import { uncleanKind, UNCLEAN } from "../detect/lookalike.ts";

export interface FieldProblem {
  line: number;
  column: number;
  row: number;
  problem: string;
  masked: string;
}

export interface FieldCandidate {
  address: string;
  own: string | null;
  line: number;
  column: number;
  row: number;
}

export interface ColumnStats {
  column: string;
  /** Longest value in characters (UTF-16 code units), and its data row (1-based). */
  longest: { length: number; row: number };
  /** Character classes seen anywhere in the column. */
  classes: string[];
  /** Values holding something address-like (an at sign in any spelling) or URL-like. */
  addressLike: number;
  urlLike: number;
}

export interface ColumnReport {
  stats: ColumnStats;
  problems: FieldProblem[];
  candidates: FieldCandidate[];
}

const MAX_PER_COLUMN = 50;

const LETTER = 1;
const DIGIT = 2;
const SPACE = 4;
const PUNCT = 8;
const NON_ASCII = 16;
const CONTROL = 32;
const CLASS_NAMES: ReadonlyArray<[number, string]> = [
  [LETTER, "ASCII letters"], [DIGIT, "digits"], [SPACE, "spaces"], [PUNCT, "ASCII punctuation"],
  [NON_ASCII, "non-ASCII characters"], [CONTROL, "control characters"],
];
const ASCII_CLASS = new Uint8Array(128).map((_, c) =>
  c < 0x20 || c === 0x7f ? CONTROL : c === 0x20 ? SPACE : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a ? LETTER : c >= 0x30 && c <= 0x39 ? DIGIT : PUNCT,
);

/** Something a reader takes for an address: an at sign in any spelling, or its words. */
export const ADDRESS_LIKE = /[@\uff20\ufe6b\u24d0\u24b6]|&#|%40|\\40|\b(?:at|atmark)\b|アット|あっと|=\?/i;
/** Something a reader takes for a link. */
export const URL_LIKE = /\b(?:https?:\/\/|www\.|data:|mailto:)|\b[a-z0-9-]+\.(?:com|net|org|jp|io|example|test)\b/i;

export class ColumnInspector {
  private readonly columns: Array<ColumnReport & { bits: number }>;

  constructor(names: readonly string[]) {
    this.columns = names.map((column) => ({
      stats: { column, longest: { length: 0, row: 0 }, classes: [], addressLike: 0, urlLike: 0 },
      problems: [],
      candidates: [],
      bits: 0,
    }));
  }

  /** One field: column `k`, data row `row`, the record's positions and line, the row's own address. */
  inspect(k: number, value: string, row: number, pos: FieldPositions, recordLine: number, own: string | null): void {
    const c = this.columns[k];
    if (c === undefined || value.length === 0) return;
    const s = c.stats;
    if (value.length > s.longest.length) s.longest = { length: value.length, row };
    let bits = 0;
    for (let i = 0; i < value.length; i++) {
      const ch = value.charCodeAt(i);
      bits |= ch < 0x80 ? ASCII_CLASS[ch]! : NON_ASCII;
    }
    c.bits |= bits;
    const line = pos.lines[k] ?? recordLine;
    const column = pos.columns[k] ?? 1;
    if ((bits & (NON_ASCII | CONTROL)) !== 0 && UNCLEAN.test(value) && c.problems.length < MAX_PER_COLUMN) {
      c.problems.push({ line, column, row, problem: firstProblem(value), masked: maskValue(value) });
    }
    // Letters and digits alone are neither address- nor URL-like, and a short run of them hides
    // nothing (base64 of an address is 12 characters or more): most fields stop here.
    const plain = (bits & ~(LETTER | DIGIT)) === 0;
    if (plain && value.length < 12) return;
    if (!plain && ADDRESS_LIKE.test(value)) s.addressLike++;
    if ((bits & PUNCT) !== 0 && URL_LIKE.test(value)) s.urlLike++;
    if (value.length >= 5 && c.candidates.length < MAX_PER_COLUMN * 20 && (needsLaxReading(value) || mayHoldPayload(value))) {
      for (const d of disguisedAddresses(value)) c.candidates.push({ address: d.address, own, line, column, row });
    }
  }

  finish(): ColumnReport[] {
    return this.columns.map(({ bits, ...c }) => ({
      ...c,
      stats: { ...c.stats, classes: CLASS_NAMES.filter(([b]) => (bits & b) !== 0).map(([, n]) => n) },
    }));
  }
}

function firstProblem(value: string): string {
  for (const ch of value) {
    const k = uncleanKind(ch);
    if (k !== null) return k;
  }
  return "an unclean character";
}

/**
 * A field value as findings may show it: its first visible character and
 * its length, never more (it may hold an address, or be one in disguise).
 */
export function maskValue(value: string): string {
  const first = [...value].find((ch) => /[\p{L}\p{N}]/u.test(ch));
  if (value.includes("@")) return mask(value.replace(/\s+/g, ""));
  return `${first ?? ""}*** (${[...value].length} characters)`;
}

/**
 * Findings for the columns a newsletter's placeholders use: every unclean
 * value (`list-field-unclean`), and every lax-reading candidate that is on
 * some list or suppressed and is not the row's own address
 * (`list-address-in-field`, "in disguise").
 */
export function placeholderColumnFindings(
  list: { file: string; header: readonly string[]; columns: readonly ColumnReport[] },
  used: ReadonlySet<string>,
  lookup: { has(a: string): boolean; sourceOf?(a: string): string | undefined },
): Finding[] {
  const out: Finding[] = [];
  list.header.forEach((name, k) => {
    const c = list.columns[k];
    if (c === undefined || !used.has(name)) return;
    for (const p of c.problems) {
      out.push(finding("list-field-unclean", list.file, p, `column \`${name}\`, row ${p.row}: the value ${p.masked} holds ${p.problem}, and \`{{ ${name} }}\` puts it into every such message`));
    }
    const seen = new Set<string>();
    for (const d of c.candidates) {
      if (d.address === d.own || !lookup.has(d.address)) continue;
      const key = `${d.row}\0${d.address}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const where = lookup.sourceOf?.(d.address) ?? "a recipient or suppression list";
      out.push(finding("list-address-in-field", list.file, d, `column \`${name}\`, row ${d.row}: holds, in disguise, ${mask(d.address)}, which is on ${where} and not this row's own address`));
    }
  });
  return out;
}
