/**
 * Mask every address in a piece of source text before it goes into a
 * message (no command prints a found address in full: docs/design.md, "Checks before sending"). Used for
 * snippets such as a malformed placeholder's text, which is author-written
 * but could still hold an address.
 */
import { mask } from "../address/mask.ts";
import { findAddresses } from "./extract.ts";

export function redactAddresses(text: string): string {
  const found = findAddresses(text);
  if (found.length === 0) return text;
  let out = "";
  let last = 0;
  for (const f of found) {
    if (f.offset < last) continue;
    out += text.slice(last, f.offset) + mask(f.address);
    last = f.offset + f.length;
  }
  return out + text.slice(last);
}
