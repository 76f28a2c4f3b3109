/**
 * The banner of an approval copy: the production message, clearly marked,
 * with the manifest an approver compares with the pull request — list,
 * count, suppressed, digest, domain breakdown and a few masked samples.
 * Masked samples only: the approval copy must not itself become a leak.
 */
import { mask } from "../address/mask.ts";

export interface BannerInput {
  id: string;
  list: string;
  count: number;
  suppressed: number;
  digest: string;
  addresses: Iterable<string>;
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
  if (other > 0) rows.push(`| (other) | ${other} |`);
  return [
    `> **APPROVAL COPY — not the real send.** This is the production message of \`${b.id}\`, rendered by the same code for a sample recipient, sent to you for review.`,
    ">",
    `> List **${b.list}**: **${b.count}** recipients, ${b.suppressed} suppressed. Digest \`${b.digest}\` — approve only if the pull request shows the same digest.`,
    `> Samples: ${samples.map((s) => `\`${s}\``).join(", ")}`,
    "",
    "| domain | recipients |",
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
