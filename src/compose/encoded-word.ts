/**
 * RFC 2047 encoded-words for non-ASCII header text (Subject, display names,
 * extra header values).
 *
 * - Charset is always `utf-8`. The encoding is whichever of B (§4.1) and Q
 *   (§4.2) is shorter for the whole value, Q on a tie: mostly-ASCII text
 *   stays readable, Japanese takes B.
 * - Q writes literally only ALPHA, DIGIT and `! * + - /`, and SP as `_`: the
 *   narrowest set, which §5 (3) requires in a phrase (display names) and
 *   which is also valid in unstructured text (§5 (1)). Everything else is
 *   `=XX`.
 * - Each encoded-word is at most 75 characters (§2) and holds whole
 *   characters: a UTF-8 sequence is never split between words (§5, last
 *   paragraph).
 *
 * Words are sized to a line budget by the caller (header.ts folds them one
 * per line). Pure byte loops; no regular expression per octet.
 *
 * Our own rather than libmime's `encodeWord` (nodemailer's, a maintained
 * library): on the send's per-message headers, encoding and folding with
 * libmime take 3.4 times as long as ours, 6.4 µs more a message, about 7 % of
 * its compose time (bench/README.md, "Header encoding"; bench/header-encoding.ts
 * refreshes it).
 */

/** `=?utf-8?X?` + `?=`. */
const OVERHEAD = 12;
/** RFC 2047 §2: an encoded-word is at most 75 characters. */
export const MAX_WORD = 75;
/** The smallest budget that always fits one character (4 octets as Q is 12). */
export const MIN_WORD = OVERHEAD + 12;

const HEX = "0123456789ABCDEF";
/** Q-encoded width of each octet: 1 (literal or "_") or 3 (`=XX`). */
const Q_WIDTH = new Uint8Array(256);
const Q_TOKEN: string[] = [];
{
  const literal = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/";
  for (let b = 0; b < 256; b++) {
    const c = String.fromCharCode(b);
    if (literal.includes(c)) Q_TOKEN[b] = c;
    else if (b === 0x20) Q_TOKEN[b] = "_";
    else Q_TOKEN[b] = `=${HEX[b >> 4]}${HEX[b & 15]}`;
    Q_WIDTH[b] = Q_TOKEN[b]!.length;
  }
}

/** Length of the UTF-8 sequence starting at `i` (clipped to what is there). */
function unitLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  const want = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  let len = 1;
  while (len < want && i + len < bytes.length && (bytes[i + len]! & 0xc0) === 0x80) len++;
  return len;
}

function qWord(bytes: Uint8Array, start: number, end: number): string {
  let s = "=?utf-8?Q?";
  for (let i = start; i < end; i++) s += Q_TOKEN[bytes[i]!]!;
  return s + "?=";
}

function bWord(bytes: Buffer, start: number, end: number): string {
  return `=?utf-8?B?${bytes.toString("base64", start, end)}?=`;
}

/**
 * Splits `value` into encoded-words. The first word is at most `firstBudget`
 * characters, the others at most `restBudget` (both capped at 75). A budget
 * below MIN_WORD for the first word is raised to `restBudget`: the caller
 * then folds before the first word. Returns [] for "".
 */
export function encodeWords(value: string, firstBudget: number, restBudget: number = MAX_WORD): string[] {
  const bytes = Buffer.from(value, "utf8");
  const n = bytes.length;
  if (n === 0) return [];
  const rest = Math.min(Math.max(restBudget, MIN_WORD), MAX_WORD);
  let budget = firstBudget < MIN_WORD ? rest : Math.min(firstBudget, MAX_WORD);

  let qTotal = 0;
  for (let i = 0; i < n; i++) qTotal += Q_WIDTH[bytes[i]!]!;
  const useB = Math.ceil(n / 3) * 4 < qTotal;

  const words: string[] = [];
  let start = 0;
  let acc = 0; // Q: encoded characters so far; B: octets so far
  let i = 0;
  while (i < n) {
    const len = unitLength(bytes, i);
    let add = len;
    if (!useB) {
      add = 0;
      for (let k = 0; k < len; k++) add += Q_WIDTH[bytes[i + k]!]!;
    }
    const next = acc + add;
    const size = useB ? Math.ceil(next / 3) * 4 : next;
    if (size + OVERHEAD > budget && i > start) {
      words.push(useB ? bWord(bytes, start, i) : qWord(bytes, start, i));
      start = i;
      budget = rest;
      acc = add;
    } else {
      acc = next;
    }
    i += len;
  }
  words.push(useB ? bWord(bytes, start, n) : qWord(bytes, start, n));
  return words;
}
