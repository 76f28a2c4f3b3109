/**
 * `check --format text`: for people. Findings grouped by file as
 * `file:line:column  severity  rule  message`, then one summary line per
 * newsletter, then `N errors, N warnings` or `OK`. ANSI colour only when asked.
 */
import type { Severity } from "../findings/finding.ts";
import type { CheckReport, NewsletterSummary } from "../findings/report.ts";
import { countFindings, headline, oneLine, orderedFindings, position, safeText } from "./common.ts";

export interface TextOptions {
  color: boolean;
}

const ANSI = {
  reset: "\u001b[0m",
  bold: "\u001b[1m",
  dim: "\u001b[2m",
  red: "\u001b[31m",
  yellow: "\u001b[33m",
  cyan: "\u001b[36m",
  green: "\u001b[32m",
} as const;

const SEVERITY_COLOUR: Record<Severity, string> = { error: ANSI.red, warning: ANSI.yellow, note: ANSI.cyan };

/** The label for findings that name no file (a repository-wide finding). */
export const NO_FILE = "(repository)";

export function formatText(report: CheckReport, options: TextOptions): string {
  const paint = (style: string, s: string): string => (options.color ? `${style}${s}${ANSI.reset}` : s);
  const out: string[] = [];

  const findings = orderedFindings(report.findings);
  let currentFile: string | undefined;
  for (const f of findings) {
    const file = f.file === "" ? NO_FILE : oneLine(safeText(f.file));
    if (file !== currentFile) {
      if (currentFile !== undefined) out.push("");
      out.push(paint(ANSI.bold, file));
      currentFile = file;
    }
    const where = `${file}:${position(f.line)}:${position(f.column)}`;
    const severity = paint(SEVERITY_COLOUR[f.severity] ?? "", f.severity.padEnd(7));
    out.push(`  ${where}  ${severity}  ${paint(ANSI.dim, oneLine(f.rule))}  ${oneLine(safeText(f.message))}`);
  }

  if (report.newsletters.length > 0) {
    if (out.length > 0) out.push("");
    for (const n of report.newsletters) out.push(newsletterLine(n, paint));
  }

  const counts = countFindings(report.findings);
  const last = headline(report.ok, counts);
  if (out.length > 0) out.push("");
  out.push(
    last === "OK"
      ? paint(ANSI.green + ANSI.bold, last)
      : paint((counts.errors > 0 || !report.ok ? ANSI.red : ANSI.yellow) + ANSI.bold, last),
  );
  return out.join("\n") + "\n";
}

function newsletterLine(n: NewsletterSummary, paint: (style: string, s: string) => string): string {
  const v = (x: number | undefined): string => (x === undefined ? "-" : String(x));
  const parts = [
    `list ${n.list === undefined ? "-" : oneLine(safeText(n.list))}`,
    `${v(n.recipients)} recipients`,
    `${v(n.suppressed)} suppressed`,
    // The store's part only when it removes someone or holds entries only the send's key matches.
    ...((n.storeSuppressed ?? 0) > 0 || (n.storeUnmatched ?? 0) > 0
      ? [`${n.storeSuppressed ?? 0} suppressed by the store${n.storeUnmatched ? ` (${n.storeUnmatched} entries only the send's key matches)` : ""}`]
      : []),
    `${v(n.contentAddresses)} distinct content addresses`,
  ];
  return `${paint(ANSI.bold, oneLine(safeText(n.id)))}  ${parts.join(", ")}`;
}
