/**
 * `leakage.allow_addresses` and `leakage.allow_domains` as one predicate over
 * normalised addresses. A domain entry allows the domain itself and every
 * subdomain (`corp.example` allows `news.corp.example`), compared label-wise
 * so `evilcorp.example` is not allowed by `corp.example`.
 */
import { domainToASCII } from "node:url";
import { normaliseAddress, normaliseText } from "../address/normalise.ts";

export function allowlist(
  addresses: Iterable<string>,
  domains: readonly string[],
): (normalisedAddress: string) => boolean {
  const exact = new Set<string>();
  for (const a of addresses) {
    const n = normaliseAddress(a);
    if (n !== null) exact.add(n);
  }
  const suffixes: string[] = [];
  for (const d of domains) {
    // Accept `@corp.example`, `.corp.example` and a trailing root dot.
    const t = normaliseText(d.trim()).replace(/^[@.]+/, "").replace(/\.$/, "");
    if (t === "") continue;
    const ascii = /[^\x00-\x7f]/.test(t) ? domainToASCII(t) : t;
    if (ascii) suffixes.push(ascii);
  }
  return (addr) => {
    if (exact.has(addr)) return true;
    const domain = addr.slice(addr.lastIndexOf("@") + 1);
    return suffixes.some((s) => domain === s || domain.endsWith(`.${s}`));
  };
}
