/**
 * The leakage check (docs/design.md, "Checks before sending"; the reason this project exists):
 * every address in subject, body and front matter, however written, is looked
 * up in the recipient and suppression lists and held against the allowlist.
 *
 * Reporting: every occurrence is a finding with its own line and column, up
 * to `maxFindingsPerRule` (default 100) per rule; past that one more finding,
 * at the first occurrence not listed, says how many more there are. The
 * incident this project answers put 13,011 addresses into one body: 13,011
 * findings would bury the point, exceed what CI annotations show (GitHub
 * keeps 10 error annotations per step) and make the report itself a
 * 13,011-line list of (masked) customers. The count is exact either way.
 */
import { mask } from "../../address/mask.ts";
import { finding, type Finding } from "../../findings/finding.ts";
import type { RuleId } from "../../findings/rules.ts";
import { disguisedAddresses } from "../../detect/disguise.ts";
import { findAddresses } from "../../detect/extract.ts";
import { LineIndex } from "./locate.ts";
import { allowlist } from "../../detect/allowlist.ts";

export interface LeakSource {
  /** Repository-relative path with `/`. */
  file: string;
  text: string;
  /** Where `text[0]` sits in `file` when the text is a part of it (1-based). */
  baseLine?: number;
  baseColumn?: number;
}

/**
 * Normalised addresses of every recipient list and the suppression list:
 * a Set, or anything that can also say where an address came from (a Map
 * from address to list file, or check/address-book.ts's `sourceOf`); that
 * name then appears in the finding.
 */
export interface AddressLookup {
  has(normalisedAddr: string): boolean;
  sourceOf?(normalisedAddr: string): string | undefined;
}

export interface LeakContext {
  listAddresses: AddressLookup | ReadonlyMap<string, string>;
  /** `leakage.allow_addresses`; normalised here. */
  allowAddresses: ReadonlySet<string>;
  /** `leakage.allow_domains`: the domain and all its subdomains. */
  allowDomains: readonly string[];
  /** Findings per rule before the rest is summarised; default 100. */
  maxFindingsPerRule?: number;
}

export interface LeakResult {
  findings: Finding[];
  /** Distinct addresses that count: strong ones, and weak ones on a list. */
  distinct: number;
}

const DEFAULT_CAP = 100;

/** What a distinct address turned out to be; one Map instead of three Sets (each Set cost time on the incident body: bench/README.md, "Figures behind the code"). */
const ON_LIST = 1;
const UNKNOWN = 2;
const ALLOWED = 3;

interface Overflow {
  count: number;
  first: { file: string; line: number; column: number };
}

export function checkLeaks(sources: ReadonlyArray<LeakSource>, ctx: LeakContext): LeakResult {
  const cap = ctx.maxFindingsPerRule ?? DEFAULT_CAP;
  const isAllowed = allowlist(ctx.allowAddresses, ctx.allowDomains);
  const lists = ctx.listAddresses;
  const sourceOf = (a: string): string | undefined =>
    lists instanceof Map ? (lists.get(a) as string | undefined) : "sourceOf" in lists ? lists.sourceOf?.(a) : undefined;

  const findings: Finding[] = [];
  const seen = new Map<string, number>();
  const listed = new Map<RuleId, number>();
  const overflow = new Map<RuleId, Overflow>();

  // `message` is a function: past the cap no message is built.
  const report = (rule: RuleId, src: LeakSource, lines: LineIndex, offset: number, message: () => string) => {
    const n = listed.get(rule) ?? 0;
    if (n < cap) {
      listed.set(rule, n + 1);
      findings.push(finding(rule, src.file, lines.at(offset), message()));
      return;
    }
    const o = overflow.get(rule);
    if (o === undefined) overflow.set(rule, { count: 1, first: { file: src.file, ...lines.at(offset) } });
    else o.count++;
  };

  for (const src of sources) {
    const hits = findAddresses(src.text);
    // The lax reading (disguise.ts): looked up, never refused for its shape.
    const disguised = disguisedAddresses(src.text);
    if (hits.length === 0 && disguised.length === 0) continue;
    const lines = new LineIndex(src.text, src.baseLine, src.baseColumn);
    const listedHere = new Set<string>();
    for (const h of hits) {
      const a = h.address;
      if (lists.has(a)) {
        listedHere.add(a);
        seen.set(a, ON_LIST);
        report("leak-list-address", src, lines, h.offset, () => {
          const where = sourceOf(a) ?? "a recipient or suppression list";
          const word = h.strong ? "" : ", written out as a word";
          const also = isAllowed(a) ? " (also allowlisted, but list addresses are never allowed)" : "";
          return `${mask(a)} is on ${where}${word}${also}`;
        });
      } else if (h.strong) {
        const known = seen.get(a);
        if (known === ALLOWED) continue;
        if (known === undefined && isAllowed(a)) {
          seen.set(a, ALLOWED);
          continue;
        }
        seen.set(a, UNKNOWN);
        report(
          "leak-unknown-address",
          src,
          lines,
          h.offset,
          () => `${mask(a)} is not in leakage.allow_addresses and its domain is not in allow_domains`,
        );
      }
    }
    for (const d of disguised) {
      const a = d.address;
      if (listedHere.has(a) || !lists.has(a)) continue;
      listedHere.add(a);
      seen.set(a, ON_LIST);
      report("leak-list-address", src, lines, d.offset, () => {
        const where = sourceOf(a) ?? "a recipient or suppression list";
        return `${mask(a)} is on ${where}, written in disguise (spaced, lookalike characters, words, controls or an encoded payload)`;
      });
    }
  }

  for (const [rule, o] of overflow) {
    findings.push(
      finding(rule, o.first.file, o.first, `…and ${fmt(o.count)} more occurrences from here on, not listed one by one`),
    );
  }

  const tally = [0, 0, 0, 0];
  for (const v of seen.values()) tally[v]!++;
  const first = sources[0];
  if (first !== undefined) {
    findings.push(
      finding(
        "addresses-counted",
        first.file,
        { line: first.baseLine ?? 1, column: first.baseColumn ?? 1 },
        `${fmt(seen.size)} distinct ${seen.size === 1 ? "address" : "addresses"} in the content: ${fmt(tally[ON_LIST]!)} on a recipient or suppression list, ` +
          `${fmt(tally[UNKNOWN]!)} outside the allowlist, ${fmt(tally[ALLOWED]!)} allowlisted`,
      ),
    );
  }
  return { findings, distinct: seen.size };
}

function fmt(n: number): string {
  return n.toLocaleString("en");
}
