/**
 * Text that must not reach customers (docs/design.md, "Checks before sending"): test and draft
 * markers left over from the approval copy, and `undefined`/`null`/`NaN`/
 * `[object Object]`, which in a rendered newsletter are almost always a
 * template or export bug rather than prose.
 */
import type { Finding } from "../finding.ts";
import { LineIndex, findingAt } from "../leak/locate.ts";
import { codeRanges, inRanges, type Range } from "./code-ranges.ts";

export interface MarkerInput {
  file: string;
  text: string;
  baseLine?: number;
  baseColumn?: number;
  /** The subject gets stricter word checks (`DRAFT`, `TEST` anywhere in it). */
  kind: "subject" | "body";
  /** Skip code spans and blocks for the code words; default: `file` ends in `.md`. */
  markdown?: boolean;
}

interface Marker {
  re: RegExp;
  /** Also skipped inside code: developer words that a code sample may carry on purpose. */
  codeWord?: boolean;
  subjectOnly?: boolean;
}

const TEST_MARKERS: readonly Marker[] = [
  { re: /[[［]\s*(?:test|draft|テスト|下書き)\s*[\]］]/gi },
  { re: /(?<=^[ \t]*(?:#{1,6}[ \t]+|>[ \t]*)?)(?:TEST|Test)[ \t]*[:：]/gm },
  { re: /\blorem\s+ipsum\b/gi },
  { re: /テスト(?:送信|配信|メール)/g },
  { re: /【\s*テスト\s*】|[（(]\s*テスト\s*[）)]/g },
  { re: /ダミー/g },
  { re: /\b(?:TODO|FIXME|XXX)\b/g, codeWord: true },
  { re: /\b(?:DRAFT|TEST)\b/g, subjectOnly: true },
  { re: /(?<=^\s*)draft\b/gi, subjectOnly: true },
];

const LITERALS = /\b(?:undefined|null|NaN)\b|\[object Object\]/g;

export function checkMarkers(input: MarkerInput): Finding[] {
  const { file, text } = input;
  const lines = new LineIndex(text, input.baseLine, input.baseColumn);
  const markdown = input.markdown ?? file.endsWith(".md");
  const code: Range[] = markdown ? codeRanges(text) : [];
  const findings: Finding[] = [];
  // One finding per position: `[TEST]` in a subject matches two patterns.
  const reported = new Set<number>();

  for (const m of TEST_MARKERS) {
    if (m.subjectOnly && input.kind !== "subject") continue;
    for (const hit of text.matchAll(m.re)) {
      const word = hit[0];
      const offset = hit.index;
      if (m.codeWord && inRanges(code, offset)) continue;
      if (overlapsReported(reported, offset, word.length)) continue;
      for (let i = 0; i < word.length; i++) reported.add(offset + i);
      findings.push(findingAt("test-marker", file, lines.at(offset), `"${word}" looks like a test or draft marker`));
    }
  }

  for (const hit of text.matchAll(LITERALS)) {
    if (inRanges(code, hit.index)) continue;
    findings.push(
      findingAt("literal-undefined", file, lines.at(hit.index), `"${hit[0]}" in the text is usually a template or export bug`),
    );
  }
  return findings;
}

function overlapsReported(reported: ReadonlySet<number>, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (reported.has(offset + i)) return true;
  return false;
}
