/**
 * The only way an address may appear in output: masked (`t***@e***.test`),
 * optionally with a keyed fingerprint. Never print a recipient address in full.
 */
import { createHmac } from "node:crypto";

/** `taro@example.co.test` → `t***@e***.test`. Keeps one character of each side and the TLD. */
export function mask(addr: string): string {
  const at = addr.lastIndexOf("@");
  if (at < 0) return addr.length ? `${firstChar(addr)}***` : "***";
  const local = addr.slice(0, at);
  const domain = addr.slice(at + 1);
  const dot = domain.lastIndexOf(".");
  const tld = dot > 0 ? domain.slice(dot) : "";
  return `${firstChar(local)}***@${firstChar(domain)}***${tld}`;
}

function firstChar(s: string): string {
  const c = Array.from(s)[0];
  return c === undefined || c === "@" ? "" : c;
}

/**
 * Keyed fingerprint of a normalised address: HMAC-SHA256 (RFC 2104), hex.
 * Used in the ledger and next to masked values; without the key it cannot be
 * reversed by hashing a list of guessed addresses.
 */
export function fingerprint(normalisedAddr: string, key: string | Buffer, hexChars = 32): string {
  const mac = createHmac("sha256", key).update(normalisedAddr).digest();
  // Hex of only the bytes needed: the same characters as digest("hex").slice(0, hexChars), without a
  // 64-character string kept alive under every fingerprint (a ledger holds a million of them).
  const hex = mac.toString("hex", 0, Math.ceil(hexChars / 2));
  return hex.length === hexChars ? hex : hex.slice(0, hexChars);
}
