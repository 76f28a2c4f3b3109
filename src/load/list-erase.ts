/**
 * A list's text without the rows of one address (erasure, `newsletter
 * forget`; docs/design.md, "Recipient data and suppressions"). Every other
 * byte is kept as it was, so a list in git shows a one-row diff and a
 * snapshot differs from the old one by exactly those rows.
 */
import { normaliseAddress } from "../address/normalise.ts";
import { CsvParser } from "./csv.ts";

export function withoutAddress(text: string, address: string): { text: string; removed: number } {
  const starts: Array<{ line: number; match: boolean }> = [];
  let emailCol = -1;
  const parser = new CsvParser({
    onRow(fields, line) {
      if (starts.length === 0) emailCol = fields.findIndex((f) => f.trim().toLowerCase() === "email");
      const raw = starts.length > 0 && emailCol >= 0 ? fields[emailCol] : undefined;
      starts.push({ line, match: raw !== undefined && normaliseAddress(raw) === address });
    },
    // A malformed record is not a row of anyone: it stays as it is (the checks report it).
    onError() {},
  });
  parser.push(text);
  parser.end();
  const lines = text.split(/(?<=\n)/);
  const drop = new Set<number>();
  starts.forEach((s, i) => {
    if (!s.match) return;
    const end = i + 1 < starts.length ? starts[i + 1]!.line - 1 : lines.length;
    for (let l = s.line; l <= end; l++) drop.add(l);
  });
  const removed = starts.filter((s) => s.match).length;
  return { text: lines.filter((_, i) => !drop.has(i + 1)).join(""), removed };
}
