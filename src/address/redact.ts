/**
 * Defence in depth for everything printed: an error message from a library
 * (nodemailer, fs, a parser), a file name, a key quoted from configuration
 * may hold an address in full. `redact` masks any address-shaped text —
 * with the ASCII `@` or the full-width/small at signs, which are the same
 * address after NFKC (docs/design.md, "Address detection"). Producers of findings mask on
 * their own; this is the net under them, not a replacement.
 */
import { mask } from "./mask.ts";

const STOP = "\\s<>\"'`()[\\]{},;:@＠﹫";
const ASCII_AT = new RegExp(`[^${STOP}]+@[^${STOP}]+\\.[^${STOP}.]+`, "gu");
const WIDE_AT = new RegExp(`[^${STOP}]+[＠﹫][^${STOP}]+`, "gu");

export function redact(text: string): string {
  return text
    .replace(ASCII_AT, (m) => (m.includes("***@") ? m : mask(m)))
    .replace(WIDE_AT, (m) => mask(m.normalize("NFKC")));
}
