/**
 * Undo the ways people write an address so that naive scrapers (and naive
 * checks) miss it (docs/design.md, "Address detection": `[at]`, `(at)`, ` at `,
 * `アットマーク`, `＠`, `dot`). Runs on folded text (fold.ts), so it is
 * lowercase and NFKC already: `＠` is `@`, `（ａｔ）` is `(at)`.
 *
 * Strength: bracketed words and `アットマーク` are deliberate spellings of an
 * address and become a real `@`. The spaced word ` at ` is also ordinary
 * English ("available at example.com"), so it becomes WEAK_AT, which the
 * extractor accepts but marks weak: such a candidate only counts when it is
 * on a recipient list. The spaced ` dot ` becomes WEAK_DOT, a dot the
 * extractor only follows before the domain has used a real dot, so
 * `taro@example.com dot matrix` stays `taro@example.com`.
 */
import { replaceMapped, type MappedString } from "./mapped.ts";

/** Stands for `@` spelled as a spaced word. A Unicode noncharacter: no text means it. */
export const WEAK_AT = "\ufdd0";
/** Stands for `.` spelled as a spaced word. */
export const WEAK_DOT = "\ufdd1";

const MARKERS = /[\ufdd0\ufdd1]/g;
const OPEN = "[\\[({<【〔]";
const CLOSE = "[\\])}>】〕]";
const SP = "[ \\t]*";

const STRONG_AT = new RegExp(`${SP}${OPEN}${SP}(?:at|@|アット|アットマーク)${SP}${CLOSE}${SP}|${SP}(?:アットマーク|あっとまーく)${SP}`, "g");
const STRONG_DOT = new RegExp(`${SP}${OPEN}${SP}(?:dot|period|\\.|ドット)${SP}${CLOSE}${SP}|${SP}ドット${SP}`, "g");
// The spaced forms need a word character on both sides, so that a sentence
// ending in "at" or "dot" does not glue itself to the next one.
const SPACED_AT = /(?<=[a-z0-9_-])[ \t]+(?:at|@)[ \t]+(?=[a-z0-9])/g;
const SPACED_DOT = /(?<=[a-z0-9-])[ \t]+(?:dot|period)[ \t]+(?=[a-z0-9])/g;

export function deobfuscate(ms: MappedString): MappedString {
  let out = ms;
  // Our markers must mean only what we put there.
  out = replaceMapped(out, MARKERS, () => " ");
  out = replaceMapped(out, STRONG_AT, () => "@");
  out = replaceMapped(out, STRONG_DOT, () => ".");
  out = replaceMapped(out, SPACED_AT, () => WEAK_AT);
  out = replaceMapped(out, SPACED_DOT, () => WEAK_DOT);
  return out;
}
