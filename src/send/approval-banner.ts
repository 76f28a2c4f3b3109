/**
 * The banner of an approval copy: the production message, clearly marked,
 * with the manifest an approver compares with the pull request — list,
 * count, suppressed, digest, domain breakdown and a few masked samples.
 * Masked samples only: the approval copy must not itself become a leak.
 */
import { mask } from "../address/mask.ts";
import { wordsFor, type Locale } from "../render/locale.ts";

export interface BannerInput {
  id: string;
  list: string;
  count: number;
  suppressed: number;
  digest: string;
  addresses: Iterable<string>;
  /** `sender.locale`: the banner's language (docs/design.md, "Layout and pictures"). */
  locale?: Locale;
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
    `> ${w.samples}: ${samples.map((s) => `\`${s}\``).join(", ")}`,
    "",
    `| ${w.domain} | ${w.recipients} |`,
    "| --- | --- |",
    ...rows,
    "",
    "---",
    "",
  ].join("\n");
}

function maskDomain(d: string): string {
  const dot = d.lastIndexOf(".");
  return dot > 0 ? `${d[0]}***${d.slice(dot)}` : `${d[0]}***`;
}
