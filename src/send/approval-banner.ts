/**
 * The banner of an approval copy: the production message, clearly marked,
 * with the manifest an approver compares with the pull request — list,
 * count, suppressed, digest, domain breakdown and a few masked samples.
 * Masked samples only: the approval copy must not itself become a leak.
 */
import { mask } from "../address/mask.ts";
import { wordsFor, type Locale } from "../render/locale.ts";
import { ADDRESS_LIKE, URL_LIKE } from "../check/list-fields.ts";
import { UNCLEAN } from "../detect/lookalike.ts";
import { redactAddresses } from "../detect/redact.ts";

export interface BannerInput {
  id: string;
  list: string;
  count: number;
  suppressed: number;
  /** The suppression store's part (suppress/apply.ts), when it was read: already out of `count`. */
  store?: { suppressed: number; unmatched: number } | null;
  digest: string;
  addresses: Iterable<string>;
  /** `sender.locale`: the banner's language (docs/design.md, "Layout and pictures"). */
  locale?: Locale;
  /** The riskiest rows of the placeholder columns (riskyRows), shown under the manifest. */
  risky?: readonly RiskyRow[];
}

export interface RiskyRow {
  column: string;
  /** Data row, 1-based, after suppressions. */
  row: number;
  why: "longest value" | "address-like" | "URL-like" | "invisible or lookalike characters";
  value: string;
}

/** Address- or URL-like rows shown per column at most; the longest value's row always is. */
const MAX_RISKY_PER_COLUMN = 10;

/**
 * The rows an approver should see besides the sample (docs/design.md, "Address
 * detection"): per placeholder column, the row with the longest value, and
 * every row (up to ten) whose value holds something address-like or
 * URL-like, or an invisible or lookalike character. The sample shows one row; the bad value is in row 9,000.
 */
export function riskyRows(rows: Iterable<Readonly<Record<string, string>>>, columns: readonly string[]): RiskyRow[] {
  const longest = new Map<string, RiskyRow>();
  const flagged = new Map<string, RiskyRow[]>(columns.map((c) => [c, []]));
  let n = 0;
  for (const r of rows) {
    n++;
    for (const c of columns) {
      const v = r[c] ?? "";
      if (v.length > (longest.get(c)?.value.length ?? -1)) longest.set(c, { column: c, row: n, why: "longest value", value: v });
      const list = flagged.get(c)!;
      if (list.length >= MAX_RISKY_PER_COLUMN) continue;
      if (ADDRESS_LIKE.test(v)) list.push({ column: c, row: n, why: "address-like", value: v });
      else if (URL_LIKE.test(v)) list.push({ column: c, row: n, why: "URL-like", value: v });
      else if (UNCLEAN.test(v)) list.push({ column: c, row: n, why: "invisible or lookalike characters", value: v });
    }
  }
  return columns.flatMap((c) => [...(longest.has(c) ? [longest.get(c)!] : []), ...flagged.get(c)!]);
}

export function approvalBanner(b: BannerInput): string {
  const domains = new Map<string, number>();
  const samples: string[] = [];
  for (const a of b.addresses) {
    const d = a.slice(a.lastIndexOf("@") + 1);
    domains.set(d, (domains.get(d) ?? 0) + 1);
    if (samples.length < 5) samples.push(mask(a));
  }
  const top = [...domains.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 10);
  const other = b.count - top.reduce((s, [, n]) => s + n, 0);
  // Domains are shown masked too: a small company's own domain identifies its customer.
  const rows = top.map(([d, n]) => `| ${maskDomain(d)} | ${n} |`);
  const w = wordsFor(b.locale);
  if (other > 0) rows.push(`| ${w.other} | ${other} |`);
  return [
    // <strong>, not **: CommonMark does not close ** between "。" and a Japanese letter.
    `> <strong>${w.approvalCopy}</strong>${w.space}${w.approvalIntro(b.id)}`,
    ">",
    `> ${w.approvalList(b.list, b.count, b.suppressed, b.digest)}`,
    ...(b.store ? [`> ${w.approvalStore(b.store.suppressed, b.store.unmatched)}`] : []),
    `> ${w.samples}: ${samples.map((s) => `\`${s}\``).join(", ")}`,
    "",
    `| ${w.domain} | ${w.recipients} |`,
    "| --- | --- |",
    ...rows,
    "",
    ...riskyTable(b.risky ?? []),
    "---",
    "",
  ].join("\n");
}

/** The risky rows as a table; values as a reader would see them, addresses masked, invisible characters named. */
function riskyTable(risky: readonly RiskyRow[]): string[] {
  if (risky.length === 0) return [];
  return [
    "Riskiest rows of the list (the sample above shows one row; these are the values most likely to go wrong):",
    "",
    "| column | row | why | value |",
    "| --- | --- | --- | --- |",
    ...risky.map((r) => `| ${r.column} | ${r.row} | ${r.why} | ${shown(r.value)} |`),
    "",
  ];
}

function shown(v: string): string {
  const visible = redactAddresses(v).replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`);
  const clipped = visible.length > 120 ? `${visible.slice(0, 119)}…` : visible;
  return `\`${clipped.replace(/`/g, "ˋ").replace(/\|/g, "¦")}\``;
}

function maskDomain(d: string): string {
  const dot = d.lastIndexOf(".");
  return dot > 0 ? `${d[0]}***${d.slice(dot)}` : `${d[0]}***`;
}
