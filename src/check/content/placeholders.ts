/**
 * Placeholder checks (docs/design.md, "The template sees one row"): every `{{ field }}` must
 * be a column of the list or a built-in, must be filled in every row, and no
 * other template language may be in the text, since it would reach readers
 * verbatim (`Dear *|FNAME|*`).
 */
import { finding, type Finding } from "../../findings/finding.ts";
import type { EmptyRows } from "../list.ts";
import { parseTemplate } from "../../render/template.ts";
import { LineIndex } from "../leak/locate.ts";
import { redactAddresses } from "../../detect/redact.ts";
import { codeRanges, inRanges, type Range } from "./code-ranges.ts";

/** Fields every recipient has without a list column (filled by the renderer). */
export const BUILTIN_FIELDS: ReadonlySet<string> = new Set(["email", "unsubscribe_url", "unsubscribe_token"]);

export interface PlaceholderInput {
  file: string;
  text: string;
  /** Where `text[0]` sits in `file` (the subject inside newsletter.yml); default 1, 1. */
  baseLine?: number;
  baseColumn?: number;
  /** The list's header columns. */
  columns: readonly string[];
  /** Columns that are empty in at least one row. */
  emptyFields: ReadonlySet<string>;
  /** Per empty column: how many rows, and the first few (line, masked address). */
  emptyRows?: ReadonlyMap<string, EmptyRows>;
  /**
   * Treat the text as Markdown, so other template syntaxes shown inside code
   * spans and blocks are examples, not mistakes. Default: `file` ends in `.md`.
   */
  markdown?: boolean;
}

/**
 * Syntaxes of other mailers and template engines that `parseTemplate` does
 * not see because they do not start with `{{`.
 */
const FOREIGN: ReadonlyArray<{ name: string; re: RegExp }> = [
  // Merge tags are words (`*|FNAME|*`, `*|IF:PLAN=pro|*`); requiring one keeps
  // compact Markdown tables with emphasis (`|*a*|*b*|`) out.
  { name: "Mailchimp merge tag `*|…|*`", re: /\*\|[A-Za-z_][\w:= -]{0,60}\|\*/g },
  { name: "`%%…%%` (Salesforce Marketing Cloud / Sendy style)", re: /%%[A-Za-z_][\w.-]{0,60}%%/g },
  { name: "`${…}` (JavaScript template / shell)", re: /\$\{[^}\n]{1,60}\}/g },
  { name: "Jinja/Liquid tag `{% … %}`", re: /\{%[\s\S]{0,200}?%\}/g },
  { name: "Jinja comment `{# … #}`", re: /\{#[\s\S]{0,200}?#\}/g },
  { name: "ERB/EJS tag `<% … %>`", re: /<%[\s\S]{0,200}?%>/g },
];

export function checkPlaceholders(input: PlaceholderInput): Finding[] {
  const { file, text } = input;
  const lines = new LineIndex(text, input.baseLine, input.baseColumn);
  const at = (offset: number) => lines.at(offset);
  const findings: Finding[] = [];
  const parsed = parseTemplate(text);

  const problemAt = new Set<number>();
  for (const p of parsed.problems) {
    problemAt.add(p.offset);
    const rule = p.kind === "foreign" ? "placeholder-foreign" : "placeholder-syntax";
    findings.push(finding(rule, file, at(p.offset), `\`${redactAddresses(p.snippet)}\`: ${p.reason}`));
  }

  const markdown = input.markdown ?? file.endsWith(".md");
  const code: Range[] = markdown ? codeRanges(text) : [];
  for (const { name, re } of FOREIGN) {
    for (const m of text.matchAll(re)) {
      if (inRanges(code, m.index)) continue;
      // `{{% … %}}` is already reported by parseTemplate.
      if (problemAt.has(m.index - 1) || problemAt.has(m.index - 2)) continue;
      findings.push(
        finding("placeholder-foreign", file, at(m.index), `\`${redactAddresses(clip(m[0]))}\` is a ${name}; only \`{{ field }}\` is supported`),
      );
    }
  }

  const columns = new Set(input.columns);
  for (const part of parsed.parts) {
    if (part.kind !== "slot") continue;
    const f = part.field;
    if (!columns.has(f) && !BUILTIN_FIELDS.has(f)) {
      const hint = suggestion(f, [...input.columns, ...BUILTIN_FIELDS]);
      findings.push(
        finding(
          "placeholder-unknown",
          file,
          at(part.offset),
          `\`{{ ${f} }}\` is not a column of the list${hint}; columns: ${input.columns.join(", ") || "(none)"}; built-ins: ${[...BUILTIN_FIELDS].join(", ")}`,
        ),
      );
    } else if (columns.has(f) && input.emptyFields.has(f) && part.fallback === undefined) {
      findings.push(finding("placeholder-empty", file, at(part.offset), emptyMessage(f, input.emptyRows?.get(f))));
    }
  }
  return findings;
}

/** Names the blank rows (line, masked address) and their count, and the two ways out. */
function emptyMessage(field: string, rows: EmptyRows | undefined): string {
  const n = rows?.count;
  const which = n === undefined ? "some rows" : `${n} row${n === 1 ? "" : "s"}`;
  const named = rows?.first.map((r) => `line ${r.line}${r.masked ? ` (${r.masked})` : ""}`) ?? [];
  const more = n !== undefined && n > named.length ? `, …` : "";
  const list = named.length ? `: ${named.join(", ")}${more}` : "";
  return `\`{{ ${field} }}\` is empty in ${which} of the list${list}; those recipients would get a blank. Fill the column, or give a default: \`{{ ${field} | "…" }}\``;
}

function clip(s: string): string {
  const one = s.replace(/\s+/g, " ");
  return one.length > 40 ? `${one.slice(0, 39)}…` : one;
}

/** ` (did you mean first_name?)` for a case or small spelling difference. */
function suggestion(field: string, known: readonly string[]): string {
  const f = field.toLowerCase();
  let best: string | null = null;
  let bestDist = 3;
  for (const k of known) {
    const d = k.toLowerCase() === f ? 0 : distance(f, k.toLowerCase());
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  return best === null ? "" : ` (did you mean ${best}?)`;
}

/** Levenshtein distance, for names of a few dozen characters. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
