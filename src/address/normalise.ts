/**
 * One normal form for e-mail addresses, used for list validation, duplicate
 * detection, the leakage hash set, the per-message guard and fingerprints.
 *
 * docs/design.md, "Address detection": NFKC, drop \p{Default_Ignorable_Code_Point},
 * `。`/`｡` → `.`, lowercase, IDN to ASCII. The whole address is lowercased:
 * RFC 5321 §2.4 lets a host treat local parts case-sensitively, but no
 * mailbox provider we send to does, and treating `Ann@x` and `ann@x` as one
 * person is the safe side for both duplicate detection and leak detection.
 */
import { domainToASCII } from "node:url";

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;
const IDEOGRAPHIC_STOPS = /[。｡]/g;
const NON_ASCII = /[^\x00-\x7f]/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ASCII_UPPER = /[A-Z]/;

/** Text-level normalisation shared by the address and leakage code. */
export function normaliseText(s: string): string {
  // Printable ASCII is invariant under NFKC and holds no ignorables: skip the
  // costly steps for the common case (a million-row list is mostly ASCII).
  // Already lower case: return it as is. A CSV field is a slice of a decoded
  // chunk, a two-byte string once the chunk holds any Japanese, and V8's
  // toLowerCase of a two-byte string is a runtime call even when nothing
  // changes (about half the list check's normalising time on 1M rows).
  if (PRINTABLE_ASCII.test(s)) return ASCII_UPPER.test(s) ? s.toLowerCase() : s;
  let t = s.normalize("NFKC");
  if (NON_ASCII.test(t) || t.includes("\u00ad")) {
    t = t.replace(IGNORABLE, "").replace(IDEOGRAPHIC_STOPS, ".");
  }
  return t.toLowerCase();
}

/**
 * Normalise one candidate address to `local@ascii-domain`. Returns null when
 * the domain cannot be converted to ASCII (not a valid IDN).
 */
export function normaliseAddress(raw: string): string | null {
  const t = normaliseText(raw.trim());
  const at = t.lastIndexOf("@");
  if (at <= 0 || at === t.length - 1) return null;
  // The common case, ASCII without a trailing dot, is `t` itself: no slices
  // and no concatenation, which the address Set would have to flatten.
  if (!t.endsWith(".") && !NON_ASCII.test(t)) return t;
  const local = t.slice(0, at);
  let domain = t.slice(at + 1);
  if (domain.endsWith(".")) domain = domain.slice(0, -1);
  if (NON_ASCII.test(domain)) {
    const ascii = domainToASCII(domain);
    if (!ascii) return null;
    domain = ascii;
  }
  return `${local}@${domain}`;
}
