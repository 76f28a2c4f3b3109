/**
 * `check --format json` (README.md, "For authors: write a newsletter"):
 * `{"ok": bool, "findings": [{"rule", "severity", "file", "line", "column", "message"}]}`
 * plus `newsletters` (the contract welcomes more keys). Keys are emitted in
 * this fixed order; findings in the stable order (file, line, column, rule).
 * The subject is left out on purpose: it is content, and the check output
 * carries only what the findings' producers already masked.
 */
import type { Severity } from "../findings/finding.ts";
import type { CheckReport } from "../findings/report.ts";
import { orderedFindings, safeText } from "./common.ts";

export interface JsonFinding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface JsonNewsletter {
  dir: string;
  id: string;
  list: string | null;
  recipients: number | null;
  suppressed: number | null;
  /** Present when the suppression store was read: how many more it removes, and its entries only the send's key matches. */
  suppressed_by_store?: number;
  store_unmatched?: number;
  content_addresses: number | null;
}

export interface JsonReport {
  ok: boolean;
  findings: JsonFinding[];
  newsletters: JsonNewsletter[];
}

export function toJsonReport(report: CheckReport): JsonReport {
  return {
    ok: report.ok,
    findings: orderedFindings(report.findings).map((f) => ({
      rule: f.rule,
      severity: f.severity,
      file: safeText(f.file),
      line: f.line,
      column: f.column,
      message: safeText(f.message),
    })),
    newsletters: report.newsletters.map((n) => ({
      dir: safeText(n.dir),
      id: safeText(n.id),
      list: n.list === undefined ? null : safeText(n.list),
      recipients: n.recipients ?? null,
      suppressed: n.suppressed ?? null,
      ...(n.storeSuppressed !== undefined ? { suppressed_by_store: n.storeSuppressed, store_unmatched: n.storeUnmatched ?? 0 } : {}),
      content_addresses: n.contentAddresses ?? null,
    })),
  };
}

/** The JSON text, two-space indented, with a final newline. */
export function formatJson(report: CheckReport): string {
  return JSON.stringify(toJsonReport(report), null, 2) + "\n";
}
