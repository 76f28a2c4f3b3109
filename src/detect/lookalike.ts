/**
 * Characters that a reader takes for `@` or `.` in an address but that are
 * neither, and the invisible controls that reorder or hide text
 * (docs/design.md, "Address detection"). NFKC folds some of them already
 * (`＠`, `﹫`, `․`, `﹒`, `．` become `@` and `.`); the rest survive it, and
 * the circled and squared letters even fold to a plain `a`, so the lax
 * reading (disguise.ts) maps them BEFORE folding.
 *
 * Lists by visual class (Unicode confusables, UTS #39 `confusables.txt`,
 * entries for U+0040 and U+002E, plus the middle dots and word separators
 * that Japanese and other scripts use between words):
 */

/** Read as `@`: full-width, small, circled, parenthesised and squared forms. */
export const AT_LOOKALIKES = "\uff20\ufe6b\u24d0\u24b6\u249c\u{1f130}\u{1f150}\u{1f170}";

/**
 * Read as `.`: dot leaders, middle dots, bullets and dot operators, the
 * Lisu, Vai, Arabic, Syriac, Armenian and Kharoshthi full stops, the
 * katakana middle dots, the full-width and small full stops and the
 * ideographic ones.
 */
export const DOT_LOOKALIKES =
  "\u2024\u2027\u00b7\u0387\u2022\u2219\u22c5\u30fb\uff65\ua4f8\ua60e\u06d4\u0701\u0702\u0589\ufe52\uff0e\u3002\uff61\ufe12\u2e33\u2e31\u2981\u{10a50}\u1427\u02d9";

/**
 * Bidi embeddings, overrides and isolates (UAX #9 §2), the marks, and other
 * format characters that change how a string is shown or hide a part of it.
 */
export const BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c";

export const AT_LOOKALIKE = new RegExp(`[${AT_LOOKALIKES}]`, "gu");
export const DOT_LOOKALIKE = new RegExp(`[${DOT_LOOKALIKES}]`, "gu");

/**
 * Japanese punctuation among the dot lookalikes: the lax reading treats them
 * as dots, but a name field may hold them (`ジョン・スミス`, `株式会社サンプル。`),
 * so a clean field may too.
 */
const JAPANESE_DOTS = "\u30fb\uff65\u3002\uff61";
const FIELD_DOT_LOOKALIKES = [...DOT_LOOKALIKES].filter((c) => !JAPANESE_DOTS.includes(c)).join("");

/** Any lookalike a clean field may not hold, any control or format character (Cc, Cf), or a line break. */
export const UNCLEAN = new RegExp(`[${AT_LOOKALIKES}${FIELD_DOT_LOOKALIKES}]|[\\p{Cc}\\p{Cf}\\u2028\\u2029]`, "u");

/** What is wrong with one character of a field, for a finding; null when nothing. */
export function uncleanKind(ch: string): string | null {
  if (ch === "\n" || ch === "\r" || ch === "\u2028" || ch === "\u2029") return "a line break";
  if (new RegExp(`[${BIDI_CONTROLS}]`, "u").test(ch)) return `a bidirectional control (U+${hex(ch)})`;
  if (/\p{Cc}/u.test(ch)) return `a control character (U+${hex(ch)})`;
  if (/\p{Cf}/u.test(ch)) return `an invisible format character (U+${hex(ch)})`;
  if (AT_LOOKALIKES.includes(ch)) return `a character that looks like @ (U+${hex(ch)})`;
  if (FIELD_DOT_LOOKALIKES.includes(ch)) return `a character that looks like . (U+${hex(ch)})`;
  return null;
}

function hex(ch: string): string {
  return ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
}
