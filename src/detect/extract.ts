/**
 * Find every address in a text, however it is written (docs/design.md, "Address detection"):
 * decode (entities, percent, escapes) → fold (normaliseText per character) →
 * de-obfuscate → scan around each `@` → `normaliseAddress` (IDN to ASCII).
 * Offsets point into the ORIGINAL text so findings can name line and column.
 */
import { normaliseAddress } from "../address/normalise.ts";
import { candidateAt } from "./candidate.ts";
import { decodeText } from "./decode.ts";
import { deobfuscate } from "./deobfuscate.ts";
import { foldMapped } from "./fold.ts";
import { mapped, originalSpan, type MappedString } from "./mapped.ts";

export interface FoundAddress {
  /** Normalised (src/address/normalise.ts), ready for a Set lookup. */
  address: string;
  /** UTF-16 offset and length of the address as written in the original text. */
  offset: number;
  length: number;
  /**
   * Strong: written with `@` in any spelling (plain, `＠`, `&#64;`, `%40`,
   * `[at]`, `(at)`, `{at}`, `アットマーク`). Weak: the spaced word ` at `
   * ("alice at example dot com"), which English prose also produces
   * ("available at example.com"), or a file name such as `logo@2x.png`. Weak
   * ones only count when they are on a recipient list; strong ones are also
   * held against the allowlist.
   */
  strong: boolean;
}

/**
 * TLD-position labels that are file extensions: `logo@2x.png` is a retina
 * image name, not a mailbox. None of these is a delegated TLD (IANA root zone
 * database); `.zip` and `.mov` are, so they are not here.
 */
export const FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "bmp", "ico", "tif", "tiff", "heic",
  "css", "js", "mjs", "map", "pdf",
]);

const AT_SIGNS = /[@\ufdd0]/g;
const ASCII = /^[\x00-\x7f]*$/;
const NEEDS_SECOND_DECODE = /[&%\\]/;

/** The text as the extractor sees it, with the mapping back to the original. */
export function searchableText(text: string): MappedString {
  const decoded = decodeText(mapped(text));
  let folded = foldMapped(decoded);
  // Full-width `＆＃６４；` or `％４０` only become an encoding after NFKC.
  if (folded !== decoded && NEEDS_SECOND_DECODE.test(folded.text)) {
    folded = foldMapped(decodeText(folded));
  }
  return deobfuscate(folded);
}

export function findAddresses(text: string): FoundAddress[] {
  if (!mayHoldAddress(text)) return [];
  const ms = searchableText(text);
  const t = ms.text;
  const found: FoundAddress[] = [];
  AT_SIGNS.lastIndex = 0;
  for (let m = AT_SIGNS.exec(t); m !== null; m = AT_SIGNS.exec(t)) {
    const c = candidateAt(t, m.index);
    if (c === null) continue;
    // The text is folded already; only a non-ASCII domain still needs IDN.
    const address = ASCII.test(c.raw) ? c.raw : normaliseAddress(c.raw);
    if (address === null) continue;
    const span = originalSpan(ms, c.start, c.end);
    found.push({
      address,
      offset: span.offset,
      length: span.length,
      strong: c.strongAt && !FILE_EXTENSIONS.has(c.tld),
    });
  }
  return found;
}

/**
 * Distinct normalised addresses in order of first appearance, for other
 * modules (the list's "address hidden in another column" check, the
 * per-message guard). Only strong ones unless asked: a guard that aborted a
 * send because a sentence said "available at example.com" would be ignored.
 */
export function extractAddresses(text: string, options: { includeWeak?: boolean } = {}): string[] {
  const seen = new Set<string>();
  for (const f of findAddresses(text)) {
    if (f.strong || options.includeWeak) seen.add(f.address);
  }
  return [...seen];
}

// Cheap pre-test for short texts such as CSV fields: without `@` in some
// spelling (or an encoding that could hide one) there is nothing to find.
const ANY_AT = /[@\uff20\ufe6b&%\\]|at|ａｔ|アット|あっと/i;

function mayHoldAddress(text: string): boolean {
  return ANY_AT.test(text);
}
