/**
 * The two records that make up nearly all of a big ledger, read in place
 * from its UTF-8 bytes when they are exactly as Ledger writes them
 * (JSON.stringify, keys in order) on a *plain* line: no byte but the final
 * newline below 0x20, none above 0x7f, no `\\`. Such a line's strings run
 * from quote to quote and decode to themselves (RFC 8259 §7: no escapes,
 * no control characters), so the fingerprints are what JSON.parse would
 * give, and its characters are its bytes. Nothing is made but their
 * offsets: the caller reads them from the bytes (recipient-states.ts
 * applyBytes). Any other line is "not ours" and takes JSON.parse, which
 * decides whether it is a record or corruption.
 *
 * Why this shape: on a million-recipient ledger (~190 MB) a JavaScript
 * loop over every byte was a large share of the time of opening it
 * (bench/README.md, "Figures behind the code"). Here a
 * piece is checked for plainness four bytes at a time (nextOdd), and the
 * readers find a line's newline as they go.
 */

const SENT_PREFIX = [...'{"t":"sent","fp":"'].map((c) => c.charCodeAt(0));
const MID_KEY = [...'","mid":"'].map((c) => c.charCodeAt(0));
const AT_KEY = [...'","at":"'].map((c) => c.charCodeAt(0));
const CLAIM_PREFIX = [...'{"t":"claim","fps":['].map((c) => c.charCodeAt(0));
const CLAIM_AT_KEY = [...'],"at":"'].map((c) => c.charCodeAt(0));
const QUOTE = 0x22;

/** Where a line's fingerprints are: [start, end) of each, `count` of them; reused from line to line. */
export class FpSpans {
  count = 0;
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  add(start: number, end: number): void {
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }
}

/** A byte no plain line holds (see above); the newline ends lines and is plain. */
function isOdd(b: number): boolean {
  return (b < 0x20 && b !== 0x0a) || b > 0x7f || b === 0x5c;
}

/**
 * The index of the first odd byte at or after `from`, or buf.length: the
 * lines that end before it are plain. Four bytes at a time where the bytes
 * are 4-aligned in memory, with the bit tricks of "Bit Twiddling Hacks"
 * (hasless, haszero; exact as tests of "any byte"): a word with a byte
 * below 0x20 (a newline, mostly), above 0x7f or `\\` is looked at byte by byte.
 */
export function nextOdd(buf: Uint8Array, from: number): number {
  const end = buf.length;
  let i = from;
  while (i < end && (buf.byteOffset + i) % 4 !== 0) {
    if (isOdd(buf[i]!)) return i;
    i++;
  }
  if (i === end) return end;
  const words = new Int32Array(buf.buffer, buf.byteOffset + i, (end - i) >>> 2);
  for (let w = 0; w < words.length; w++) {
    const x = words[w]!;
    const bs = x ^ 0x5c5c5c5c;
    if (((x & 0x80808080) | ((x - 0x20202020) & ~x & 0x80808080) | ((bs - 0x01010101) & ~bs & 0x80808080)) === 0) continue;
    for (let k = i + w * 4; k < i + w * 4 + 4; k++) if (isOdd(buf[k]!)) return k;
  }
  for (i += words.length * 4; i < end; i++) if (isOdd(buf[i]!)) return i;
  return end;
}

function matches(buf: Uint8Array, at: number, bytes: readonly number[]): boolean {
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}

/**
 * The next quote at or after `i` on this line, or -1 (a newline, an odd
 * byte or the end came first). A loop rather than Buffer.indexOf: strings
 * here are short, and a call to indexOf costs more than the loop.
 */
function quoteAt(buf: Uint8Array, i: number): number {
  for (;;) {
    const b = buf[i]!;
    if (b > QUOTE || b === 0x20 || b === 0x21) i++; // `undefined` past the end is neither
    else return b === QUOTE ? i : -1;
  }
}

/** After a string's closing quote at `q`: `}` and the newline, whose index is returned; else -1. */
function lineEnd(buf: Uint8Array, q: number): number {
  return q >= 0 && buf[q + 1] === 0x7d && buf[q + 2] === 0x0a ? q + 2 : -1;
}

/**
 * `{"t":"sent","fp":"…","mid":"…","at":"…"}` and its newline (a SentRecord
 * as JSON.stringify writes it) at `start`: the index of the newline, with
 * the fingerprint in `spans`; else -1. Counts only on a plain line: the
 * caller checks that no odd byte comes before the newline.
 */
export function readSentLine(buf: Uint8Array, start: number, spans: FpSpans): number {
  if (buf[start + 6] !== 0x73 || !matches(buf, start, SENT_PREFIX)) return -1;
  const fpStart = start + SENT_PREFIX.length;
  const fpEnd = quoteAt(buf, fpStart);
  if (fpEnd < 0 || !matches(buf, fpEnd, MID_KEY)) return -1;
  const midEnd = quoteAt(buf, fpEnd + MID_KEY.length);
  if (midEnd < 0 || !matches(buf, midEnd, AT_KEY)) return -1;
  spans.count = 0;
  spans.add(fpStart, fpEnd);
  return lineEnd(buf, quoteAt(buf, midEnd + AT_KEY.length));
}

/**
 * `{"t":"claim","fps":["…",…],"at":"…"}` and its newline (a ClaimRecord as
 * JSON.stringify writes it) at `start`: the index of the newline, with the
 * fingerprints in `spans`; else -1. Counts only on a plain line (see
 * readSentLine), and only whole: a claim is applied whole or read by
 * JSON.parse.
 */
export function readClaimLine(buf: Uint8Array, start: number, spans: FpSpans): number {
  if (buf[start + 6] !== 0x63 || !matches(buf, start, CLAIM_PREFIX)) return -1;
  spans.count = 0;
  let i = start + CLAIM_PREFIX.length;
  while (buf[i] === QUOTE) {
    const end = quoteAt(buf, i + 1);
    if (end < 0) return -1;
    spans.add(i + 1, end);
    i = end + 1;
    if (buf[i] === 0x2c) {
      i++;
      if (buf[i] !== QUOTE) return -1;
    }
  }
  if (!matches(buf, i, CLAIM_AT_KEY)) return -1;
  return lineEnd(buf, quoteAt(buf, i + CLAIM_AT_KEY.length));
}
