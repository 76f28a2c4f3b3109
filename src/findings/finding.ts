/**
 * What every check reports. `message` must never contain an address in full:
 * only `mask()`ed values. `file` is relative to the repository root with `/`.
 * `line` and `column` are 1-based and point at the offending text in `file`.
 */
import { RULES, type RuleId } from "./rules.ts";

export type Severity = "error" | "warning" | "note";

/** 1-based line and column (UTF-16 code units, as editors and SARIF count). */
export interface Position {
  line: number;
  column: number;
}

export interface Finding {
  rule: RuleId;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
}

/** Line 1, column 1: for a finding about a whole file. */
export const FILE_START: Readonly<Position> = Object.freeze({ line: 1, column: 1 });

/**
 * The one way to build a finding. The severity is the rule's in RULES, the single
 * catalogue, unless the caller names another (a rule whose weight depends on the
 * case, such as a list kept in git, or a YAML warning).
 */
export function finding(rule: RuleId, file: string, at: Readonly<Position>, message: string, severity: Severity = RULES[rule].severity): Finding {
  return { rule, severity, file, line: at.line, column: at.column, message };
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
