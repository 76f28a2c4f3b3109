/**
 * Helpers shared by the `check` output formats. Pure: no process or global
 * state. Everything a formatter prints comes from the CheckReport; these
 * helpers only order, count and escape it, and never add source content.
 */
import { mask } from "../address/mask.ts";
import { redact } from "../address/redact.ts";
import { sortFindings, type Finding, type Severity } from "../findings/finding.ts";
import { RULES, type RuleId, type RuleInfo } from "../findings/rules.ts";

/** A copy of the findings in the stable order (file, line, column, rule); the report is not mutated. */
export function orderedFindings(findings: readonly Finding[]): Finding[] {
  return sortFindings(findings.map((f) => ({ ...f })));
}

export interface Counts {
  errors: number;
  warnings: number;
  notes: number;
}

export function countFindings(findings: readonly Finding[]): Counts {
  const c: Counts = { errors: 0, warnings: 0, notes: 0 };
  for (const f of findings) {
    if (f.severity === "error") c.errors++;
    else if (f.severity === "warning") c.warnings++;
    else c.notes++;
  }
  return c;
}

/** `2 errors, 1 warning` (the text and summary headline); `OK` when clean. */
export function headline(ok: boolean, counts: Counts): string {
  if (ok && counts.errors === 0 && counts.warnings === 0) return "OK";
  return `${plural(counts.errors, "error")}, ${plural(counts.warnings, "warning")}`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Positions are 1-based; anything below 1 or not a finite number becomes 1. */
export function position(n: number): number {
  return Number.isFinite(n) && n >= 1 ? Math.trunc(n) : 1;
}

/**
 * Defence in depth: findings are masked by their producers, but every free
 * text a formatter prints passes through `redact`, which masks any
 * address-shaped text it still finds (already masked values are left as is).
 */
export function safeText(s: string): string {
  return redact(s);
}

const FALLBACK_RULE: RuleInfo = { severity: "error", title: "Check finding", help: "See the message." };

/** Catalogue entry of a rule; a rule id unknown to the catalogue gets a neutral entry. */
export function ruleInfo(rule: string): RuleInfo {
  return (RULES as Record<string, RuleInfo>)[rule] ?? FALLBACK_RULE;
}

export function isKnownRule(rule: string): rule is RuleId {
  return Object.hasOwn(RULES, rule);
}

export const SEVERITY_ORDER: readonly Severity[] = ["error", "warning", "note"];

/**
 * One line for a terminal: line breaks become `\n`, tabs a space, and other
 * control or bidirectional-override characters are shown as `\u{…}` so a
 * message can neither break the layout nor inject terminal escapes.
 */
export function oneLine(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, "\\n")
    .replace(/\t/g, " ")
    .replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, (c) =>
      `\\u{${c.codePointAt(0)!.toString(16)}}`,
    );
}
