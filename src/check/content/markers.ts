/**
 * Text that must not reach customers (docs/design.md, "Checks before sending"): test and draft
 * markers left over from the approval copy, and `undefined`/`null`/`NaN`/
 * `[object Object]`, which in a rendered newsletter are almost always a
 * template or export bug rather than prose.
 */
import { finding, type Finding } from "../../findings/finding.ts";
import { LineIndex } from "../leak/locate.ts";
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
  /**
   * newsletter.yml `allow_markers`: phrases that are real content here. A
   * marker inside an occurrence of one (compared case-insensitively) is not
   * reported; the phrase must hold the whole marker.
   */
  allow?: readonly string[];
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
  // Saying that the mail is a test, a dummy or not to be sent (English).
  { re: /\bthis is (?:only )?a test\b/gi },
  { re: /\btest (?:e-?mail|message|mail|send|newsletter|version)\b/gi },
  { re: /\b(?:do not|don['’]t|never) send\b|\bnot (?:to be|for) sen(?:t|ding)\b/gi },
  { re: /\b(?:dummy|placeholder|sample|filler) (?:text|content|copy|data|link|image|name)\b/gi },
  { re: /\[\s*(?:insert|add|your|replace)\b[^\]\n]{0,40}\]/gi },
  { re: /\b(?:replace|change) me\b|\bCHANGEME\b|\basdf\b|\bqwerty\b/gi },
  { re: /\bWIP\b|\bDRAFT ONLY\b/g },
  { re: /\bfor internal (?:review|use) only\b/gi },
  // The same in Japanese.
  { re: /これは(?:テスト|試験|ダミー)/g },
  { re: /(?:送信|配信|公開)(?:しないで|禁止|不可)/g },
  { re: /仮(?:の)?(?:テキスト|文章|タイトル|リンク|画像|原稿)|仮置き/g },
  { re: /要(?:確認|修正)|確認用(?:メール|テキスト|原稿)|社内(?:確認用|限り)/g },
  { re: /サンプル(?:テキスト|文章|原稿)|テスト用(?:の)?(?:メール|文章|テキスト|原稿)/g },
  { re: /〇〇|○○|●●|××|△△|□□/g },
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
  const allowed = allowedRanges(text, input.allow ?? []);

  for (const m of TEST_MARKERS) {
    if (m.subjectOnly && input.kind !== "subject") continue;
    for (const hit of text.matchAll(m.re)) {
      const word = hit[0];
      const offset = hit.index;
      if (m.codeWord && inRanges(code, offset)) continue;
      if (allowed.some(([s, e]) => offset >= s && offset + word.length <= e)) continue;
      if (overlapsReported(reported, offset, word.length)) continue;
      for (let i = 0; i < word.length; i++) reported.add(offset + i);
      findings.push(finding("test-marker", file, lines.at(offset), `"${word}" looks like a test or draft marker`));
    }
  }

  for (const hit of text.matchAll(LITERALS)) {
    if (inRanges(code, hit.index)) continue;
    findings.push(
      finding("literal-undefined", file, lines.at(hit.index), `"${hit[0]}" in the text is usually a template or export bug`),
    );
  }
  return findings;
}

/** Where the allowed phrases stand in `text`, case-insensitively. */
function allowedRanges(text: string, phrases: readonly string[]): Range[] {
  if (phrases.length === 0) return [];
  const lower = text.toLowerCase();
  const out: Range[] = [];
  for (const p of phrases) {
    const q = p.toLowerCase();
    // Lowercasing keeps the length of the text and the phrase alike for the scripts we write in.
    for (let i = lower.indexOf(q); i >= 0 && q.length > 0; i = lower.indexOf(q, i + 1)) out.push([i, i + q.length]);
  }
  return out;
}

function overlapsReported(reported: ReadonlySet<number>, offset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (reported.has(offset + i)) return true;
  return false;
}
