/**
 * The guard's knowledge of the list (docs/design.md, "The per-message
 * guard"): every member's and every suppressed address's fingerprint, the
 * keyed HMAC the ledger keys recipients by (src/address/mask.ts), kept as
 * the first 52 bits of each in a sorted Float64Array — 8 bytes a member,
 * 8 MB at a million, cheap to hand to a compose thread, and no address in
 * it. A candidate is fingerprinted with the same key and looked up by
 * binary search; answers are remembered, since the same few candidates
 * (the footer's, the sender's) recur in every message. Two different
 * addresses share 52 bits with odds of about n / 2^52 per lookup; a false
 * match aborts a send, it never lets one through.
 */
import { fingerprint } from "../address/mask.ts";

/** 13 hex digits: 52 bits, exact in a double. */
const KEY_HEX = 13;

function keyOf(fp: string): number {
  return Number.parseInt(fp.slice(0, KEY_HEX), 16);
}

/** The sorted keys of these fingerprints (hex, as `fingerprint()` makes them). */
export function listedKeys(fingerprints: Iterable<string>): Float64Array {
  const keys: number[] = [];
  for (const fp of fingerprints) keys.push(keyOf(fp));
  return Float64Array.from(keys).sort();
}

const MAX_REMEMBERED = 100_000;

/** `listed(address)` over `keys`, fingerprinting with `secret` as the ledger does. */
export function listedLookup(keys: Float64Array, secret: string): (normalisedAddr: string) => boolean {
  const memo = new Map<string, boolean>();
  return (addr) => {
    let v = memo.get(addr);
    if (v === undefined) {
      v = has(keys, keyOf(fingerprint(addr, secret)));
      if (memo.size >= MAX_REMEMBERED) memo.clear();
      memo.set(addr, v);
    }
    return v;
  };
}

function has(keys: Float64Array, k: number): boolean {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = keys[mid]!;
    if (v === k) return true;
    if (v < k) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
