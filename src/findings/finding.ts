/**
 * What every check reports. `message` must never contain an address in full:
 * only `mask()`ed values. `file` is relative to the repository root with `/`.
 * `line` and `column` are 1-based and point at the offending text in `file`.
 */
import type { RuleId } from "./rules.ts";

export type Severity = "error" | "warning" | "note";

export interface Finding {
  rule: RuleId;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === "error");
}

/** Stable order for every output format: file, line, column, rule. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      a.rule.localeCompare(b.rule),
  );
}
