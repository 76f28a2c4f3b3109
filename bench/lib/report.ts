/** Medians and a plain-text table for the bench suites. */

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function summarise(values: readonly number[]): Summary {
  const v = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };
  const mid = v.length >> 1;
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { median, min: v[0]!, max: v[v.length - 1]! };
}

/** Columns left-aligned when `align[k]` is "l", right-aligned otherwise. */
export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>, align: string): string {
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? "").length)));
  const cell = (s: string, k: number): string => (align[k] === "l" ? s.padEnd(widths[k]!) : s.padStart(widths[k]!));
  const line = (r: readonly string[]): string => r.map((s, k) => cell(s, k)).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
export const mib = (kib: number): number => kib / 1024;
