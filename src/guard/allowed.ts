/**
 * Whose addresses a message may hold (docs/design.md, "The per-message guard"): the
 * recipient's own, our own (From, Reply-To, the List-Unsubscribe mailto, the
 * Message-ID), `leakage.allow_addresses`, and any address at a domain of
 * `leakage.allow_domains` or a subdomain of one, compared label-wise so that
 * `corp.example` does not allow `evilcorp.example`. All inputs normalised
 * (src/address/normalise.ts), as the port promises.
 */
import type { GuardContext } from "./port.ts";

export function isAllowed(addr: string, ctx: GuardContext): boolean {
  if (addr === ctx.recipient || ctx.ownAddresses.has(addr) || ctx.allowAddresses.has(addr)) return true;
  const domain = addr.slice(addr.lastIndexOf("@") + 1);
  for (const d of ctx.allowDomains) {
    if (domain === d) return true;
    const cut = domain.length - d.length - 1;
    if (cut > 0 && domain.charCodeAt(cut) === 0x2e && domain.endsWith(d)) return true;
  }
  return false;
}
