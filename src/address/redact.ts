/**
 * Defence in depth for the one failure path of each entry point: an error
 * message from a library (nodemailer, fs, a parser) may quote an address in
 * full. Everything printed there passes through `redact`, which masks any
 * address-shaped text. Producers of findings mask on their own; this is the
 * net under them, not a replacement.
 */
import { mask } from "./mask.ts";

const ADDRESS_LIKE = /[^\s@<>"'`()[\]{},;:]+@[^\s@<>"'`()[\]{},;:]+\.[^\s@<>"'`()[\]{},;:.]+/gu;

export function redact(text: string): string {
  return text.replace(ADDRESS_LIKE, (m) => (m.includes("***@") ? m : mask(m)));
}
