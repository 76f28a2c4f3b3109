/**
 * Messages built from configuration text may quote a key or a fragment of
 * the source. Nothing address-like may reach output in full (no command
 * ever prints a found address in full), so every message the
 * loaders build passes through here.
 */
import { redact } from "../address/redact.ts";

/** Replace every address-like run in `s` with its masked form (one redactor for the whole tool). */
export const maskAddressesIn = redact;

/** A key or short value quoted in a message: masked, control characters escaped by JSON, cut to 60 chars. */
export function quoteForMessage(s: string): string {
  let t = maskAddressesIn(s);
  if (t.length > 60) t = `${t.slice(0, 57)}...`;
  return JSON.stringify(t);
}
