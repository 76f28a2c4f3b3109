/**
 * `check --format github`: annotations on the pull request and a job summary,
 * through a narrow sink (github-actions-sink.ts implements it on
 * @actions/core; tests use a plain fake).
 *
 * GitHub shows at most 10 error, 10 warning and 10 notice annotations per
 * step, and 50 per job (actions/toolkit docs/problem-matchers.md,
 * "Limitations"); the rest are dropped silently. So the first
 * {@link ANNOTATIONS_PER_LEVEL} of each level are emitted (errors first, each
 * level in the stable file/line/column order) and the summary always holds
 * the full table and says how many were not annotated. A step summary may
 * take at most 1 MiB; past {@link SUMMARY_BUDGET_BYTES} the table is cut and
 * the cut is stated.
 */
import type { Finding, Severity } from "../findings/finding.ts";
import type { CheckReport, NewsletterSummary } from "../findings/report.ts";
import { countFindings, headline, orderedFindings, plural, position, ruleInfo, safeText, SEVERITY_ORDER } from "./common.ts";

export type AnnotationLevel = "error" | "warning" | "notice";

export interface AnnotationProps {
  file: string;
  startLine: number;
  startColumn: number;
  title: string;
}

export interface GithubSink {
  annotate(level: AnnotationLevel, message: string, props: AnnotationProps): void;
  /** Add markdown to the job summary; resolves once written (or skipped where there is none). */
  summary(markdown: string): Promise<void>;
}

/** Per step and level, what GitHub displays. */
export const ANNOTATIONS_PER_LEVEL = 10;
/** GitHub's cap is 1 MiB per step summary; keep a margin for the lines after the table. */
export const SUMMARY_BUDGET_BYTES = 1_000_000;

const ANNOTATION_LEVEL: Record<Severity, AnnotationLevel> = { error: "error", warning: "warning", note: "notice" };

export interface GithubEmitResult {
  annotated: number;
  notAnnotated: number;
}

/**
 * Notes that only count (every clean run has one): in the summary's table, not
 * as an annotation pinned to `newsletter.yml:1:1` on every pull request.
 */
const SUMMARY_ONLY: ReadonlySet<string> = new Set(["addresses-counted"]);

export async function emitGithub(report: CheckReport, sink: GithubSink): Promise<GithubEmitResult> {
  const findings = orderedFindings(report.findings).filter((f) => !SUMMARY_ONLY.has(f.rule));
  let annotated = 0;
  for (const severity of SEVERITY_ORDER) {
    const ofLevel = findings.filter((f) => f.severity === severity).slice(0, ANNOTATIONS_PER_LEVEL);
    for (const f of ofLevel) {
      sink.annotate(ANNOTATION_LEVEL[severity], annotationMessage(f), {
        file: safeText(f.file),
        startLine: position(f.line),
        startColumn: position(f.column),
        title: `${f.rule}: ${ruleInfo(f.rule).title}`,
      });
      annotated++;
    }
  }
  const notAnnotated = findings.length - annotated;
  await sink.summary(githubSummary(report, notAnnotated));
  return { annotated, notAnnotated };
}

/** The annotation text is the masked message; @actions/core escapes `%`, CR and LF itself. */
function annotationMessage(f: Finding): string {
  return safeText(f.message) || ruleInfo(f.rule).title;
}

/** The job summary (GitHub-flavoured Markdown). */
export function githubSummary(report: CheckReport, notAnnotated = 0, budgetBytes = SUMMARY_BUDGET_BYTES): string {
  const findings = orderedFindings(report.findings);
  const counts = countFindings(findings);
  const status = headline(report.ok, counts);
  const icon = status === "OK" ? "✅" : counts.errors > 0 || !report.ok ? "❌" : "⚠️";
  const out: string[] = [`## ${icon} Newsletter check: ${status}`, ""];

  if (report.newsletters.length > 0) {
    out.push("| Newsletter | List | Recipients | Suppressed | Content addresses |", "| --- | --- | --: | --: | --: |");
    for (const n of report.newsletters) out.push(newsletterRow(n));
    out.push("");
  }

  if (findings.length === 0) {
    out.push("No findings.", "");
    return out.join("\n");
  }

  out.push(
    `### Findings (${plural(counts.errors, "error")}, ${plural(counts.warnings, "warning")}, ${plural(counts.notes, "note")})`,
    "",
  );
  if (notAnnotated > 0) {
    out.push(
      `GitHub shows at most ${ANNOTATIONS_PER_LEVEL} annotations of each level per step: ${plural(notAnnotated, "finding")} ` +
        "appear only in this table.",
      "",
    );
  }
  out.push("| Location | Rule | Severity | Message |", "| --- | --- | --- | --- |");

  let used = byteLength(out.join("\n"));
  let shown = 0;
  for (const f of findings) {
    const row = findingRow(f);
    const size = byteLength(row) + 1;
    if (used + size > budgetBytes) break;
    out.push(row);
    used += size;
    shown++;
  }
  out.push("");
  if (shown < findings.length) {
    out.push(
      `${plural(findings.length - shown, "more finding")} not shown: the job summary is limited in size. ` +
        "Run `check` locally or use `--format json` for the full list.",
      "",
    );
  }
  return out.join("\n");
}

function findingRow(f: Finding): string {
  const where = f.file === "" ? "(repository)" : `${safeText(f.file)}:${position(f.line)}:${position(f.column)}`;
  return `| ${codeCell(where)} | ${codeCell(f.rule)} | ${escapeMarkdown(f.severity)} | ${escapeMarkdown(safeText(f.message))} |`;
}

function newsletterRow(n: NewsletterSummary): string {
  const v = (x: number | undefined): string => (x === undefined ? "–" : String(x));
  const list = n.list === undefined ? "–" : codeCell(safeText(n.list));
  // The store's part only when it removes someone or holds entries only the send's key matches.
  const store = (n.storeSuppressed ?? 0) > 0 || (n.storeUnmatched ?? 0) > 0
    ? ` + ${n.storeSuppressed ?? 0} by the store${n.storeUnmatched ? ` (the send may remove up to ${n.storeUnmatched} more)` : ""}`
    : "";
  return `| ${codeCell(safeText(n.id))} | ${list} | ${v(n.recipients)} | ${v(n.suppressed)}${store} | ${v(n.contentAddresses)} |`;
}

/**
 * Text for a Markdown table cell: every ASCII punctuation character is
 * backslash-escaped (CommonMark allows it for all of them; GFM tables read
 * `\|` as a literal pipe), so no emphasis, link, HTML, autolink or column
 * break can arise from a message. Line breaks become spaces; other control
 * characters are dropped.
 */
export function escapeMarkdown(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, " ")
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/[!-/:-@[-`{-~]/g, "\\$&");
}

/** An inline code span fit for a table cell (fence longer than any backtick run inside, `|` escaped). */
export function codeCell(s: string): string {
  const text = s.replace(/\r\n|\r|\n/g, " ").replace(/[\u0000-\u001f\u007f]/g, "").replace(/\|/g, "\\|");
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = longest > 0 || text.startsWith(" ") || text.endsWith(" ") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}
