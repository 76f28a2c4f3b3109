/**
 * `normaliseText` (src/address/normalise.ts: NFKC, drop
 * Default_Ignorable_Code_Point, `。`/`｡` → `.`, lowercase) applied so that
 * positions survive. NFKC over the whole text would be one opaque change;
 * here it runs per character together with the combining marks that follow
 * it (UAX #15 composes a starter with its following marks, and the half-width
 * katakana voiced marks U+FF9E/U+FF9F become combining marks under NFKC), so
 * `ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ` inside a Japanese sentence still maps
 * character for character to the original.
 */
import { normaliseText } from "../address/normalise.ts";
import { replaceMapped, type MappedString } from "./mapped.ts";

const CLUSTER = /[\s\S][\p{M}\uff9e\uff9f]+|[^\x00-\x7f]/gu;
/** What normaliseText changes besides NFKC: ignorables, ideographic stops, case. */
const NEEDS_FOLD = /[\p{Default_Ignorable_Code_Point}。｡]|(?![A-Z])\p{Changes_When_Lowercased}/u;
const ASCII_UPPER = /[A-Z]/;

/**
 * Japanese prose has a few thousand distinct characters but hundreds of
 * thousands of occurrences; normalising each distinct cluster once keeps a
 * body with a 13,011-row table of Japanese names fast.
 */
const cache = new Map<string, string>();
const CACHE_MAX = 20_000;

function foldCluster(c: string): string {
  let v = cache.get(c);
  if (v === undefined) {
    v = normaliseText(c);
    if (cache.size < CACHE_MAX) cache.set(c, v);
  }
  return v;
}

export function foldMapped(ms: MappedString): MappedString {
  // Already in normal form apart from ASCII case (the usual body): skip the
  // per-character pass. String.normalize uses ICU's quick check, so this is
  // a scan, not a rewrite.
  const clean = !NEEDS_FOLD.test(ms.text) && ms.text.normalize("NFKC") === ms.text;
  const out = clean ? ms : replaceMapped(ms, CLUSTER, (m) => foldCluster(m[0]));
  if (!ASCII_UPPER.test(out.text)) return out;
  // What is left to fold is ASCII, where lowercasing keeps the length, so the
  // mapping is unchanged. (Non-ASCII was lowercased per cluster above, and
  // lowercasing lowercased text again is length-preserving too.)
  const lower = out.text.toLowerCase();
  if (lower.length === out.text.length) return { text: lower, starts: out.starts, ends: out.ends };
  return replaceMapped(out, /[A-Z]+/g, (m) => m[0].toLowerCase());
}
