/**
 * Messages built from configuration text may quote a key or a fragment of
 * the source. Nothing address-like may reach output in full (DESIGN.md:
 * "no command ever prints ... a found address in full"), so every message the
 * loaders build passes through here.
 */
import { mask } from "../address/mask.ts";

// Something@something, also with the full-width at sign. `@org/team` (nothing
// before the @) is an owner, not an address, and stays readable.
const ADDRESS_LIKE = /[^\s<>()[\]"'`,;:@＠]+[@＠][^\s<>()[\]"'`,;:@＠]+/gu;

/** Replace every address-like run in `s` with its masked form. */
export function maskAddressesIn(s: string): string {
  return s.replace(ADDRESS_LIKE, (m) => mask(m.replace("＠", "@")));
}

/** A key or short value quoted in a message: masked, control characters escaped by JSON, cut to 60 chars. */
export function quoteForMessage(s: string): string {
  let t = maskAddressesIn(s);
  if (t.length > 60) t = `${t.slice(0, 57)}...`;
  return JSON.stringify(t);
}
