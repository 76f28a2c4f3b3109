/**
 * Is a normalised address one we may send to? A deliberately strict subset of
 * RFC 5321 §4.1.2 / RFC 5322 §3.4.1: dot-atom local part of ASCII atext only
 * (a non-ASCII local part needs SMTPUTF8, RFC 6531, which we do not assume),
 * an LDH domain of at least two labels (RFC 1035 §2.3.1, RFC 5891 for IDN
 * already converted to ASCII), and the length limits of RFC 5321 §4.5.3.1.
 */

export type AddressProblem =
  | "no-at"
  | "local-empty"
  | "local-too-long"
  | "local-syntax"
  | "local-non-ascii"
  | "domain-syntax"
  | "domain-too-long"
  | "domain-single-label"
  | "too-long";

const ATEXT_DOT_ATOM = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** LDH labels of 1–63 characters, no leading or trailing hyphen, at least two labels. */
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMERIC_TLD = /\.[0-9]+$/;

/** Returns null when valid, else the first problem found. Input must be normalised. */
export function addressProblem(addr: string): AddressProblem | null {
  const at = addr.lastIndexOf("@");
  if (at < 0) return "no-at";
  if (addr.length > 254) return "too-long";
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  if (local.length === 0) return "local-empty";
  if (local.length > 64) return "local-too-long";
  if (!ATEXT_DOT_ATOM.test(local)) {
    return /[^\x00-\x7f]/.test(local) ? "local-non-ascii" : "local-syntax";
  }
  if (domain.length > 253) return "domain-too-long";
  if (!domain.includes(".")) return "domain-single-label";
  if (!DOMAIN.test(domain) || NUMERIC_TLD.test(domain)) return "domain-syntax";
  return null;
}

export const ADDRESS_PROBLEM_TEXT: Record<AddressProblem, string> = {
  "no-at": "has no @",
  "local-empty": "has nothing before the @",
  "local-too-long": "has more than 64 characters before the @ (RFC 5321 §4.5.3.1.1)",
  "local-syntax": "has characters or dots before the @ that are not allowed unquoted (RFC 5322 §3.4.1)",
  "local-non-ascii": "has non-ASCII characters before the @ (needs SMTPUTF8, not supported)",
  "domain-syntax": "has a domain that is not a valid host name (RFC 1035 §2.3.1)",
  "domain-too-long": "has a domain longer than 253 characters",
  "domain-single-label": "has a domain without a dot",
  "too-long": "is longer than 254 characters (RFC 5321 §4.5.3.1.3)",
};
