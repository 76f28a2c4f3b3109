/**
 * Quoted-printable body encoding (RFC 2045 §6.7) for text/* parts, as a byte
 * loop over UTF-8: a million messages go through here.
 *
 * Rules, and the choices where the RFC leaves one:
 * - Rule 2: octets 33–60 and 62–126 are literal; "=" and everything else is
 *   `=XX` with upper-case hex (rule 1).
 * - Rule 4: a line break in the source — CRLF, or a lone LF or CR, which is
 *   what a string from the renderer holds — becomes a hard CRLF break. Text
 *   is canonically CRLF-delimited (RFC 2046 §4.1.1), so a lone LF or CR has
 *   no other meaning to preserve; the decoded part holds CRLF for each.
 * - Rule 3: SP and HTAB are literal except right before a hard break or at
 *   the end of the part, where they are encoded (a decoder strips them).
 * - Rule 5: encoded lines are at most 76 characters; a soft break `=` ends
 *   a line at most 75 characters long. A soft break never splits an `=XX`
 *   triplet, nor the triplets of one UTF-8 sequence, so even a decoder that
 *   decodes line by line never sees half a character.
 * - A "." starting an encoded line is written `=2E`, and "From " starting a
 *   line `=46rom `. SMTP dot-stuffing (RFC 5321 §4.5.2) is the transport's
 *   job, but with this no line of the part can be taken for the end of DATA
 *   by a transport that forgot it, and no mbox writer rewrites a line to
 *   ">From " (which would also break a DKIM body hash). Costs 2 octets per
 *   such line; the decoded text is unchanged (rule 1 allows encoding any
 *   octet).
 *
 * The output depends on nothing but the input bytes, so the same text always
 * gives the same octets. It is also line-local: every rule looks no further
 * than the next hard break, and the column restarts at 0 after it, so the
 * encoding of a text is the encodings of its source lines joined by CRLF. A
 * compose-once fast path can therefore keep the encoded static lines and
 * re-encode only the lines that hold a per-recipient value, byte-identically.
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const EQ = 0x3d;
const DOT = 0x2e;
const UPPER_F = 0x46;

/** Longest encoded line content before a soft break `=` (76 with it). */
const MAX_CONTENT = 75;

/** Upper-case hex digits for every octet: HEX_HI[b], HEX_LO[b]. */
const HEX_HI = new Uint8Array(256);
const HEX_LO = new Uint8Array(256);
/** 1 for octets that are literal wherever they stand (rule 2). */
const LITERAL = new Uint8Array(256);
{
  const digits = "0123456789ABCDEF";
  for (let b = 0; b < 256; b++) {
    HEX_HI[b] = digits.charCodeAt(b >> 4);
    HEX_LO[b] = digits.charCodeAt(b & 15);
    LITERAL[b] = b >= 33 && b <= 126 && b !== EQ ? 1 : 0;
  }
}

/** An upper bound on the encoded length of `n` source octets. */
export function qpMaxLength(n: number): number {
  // ≤ 3 output octets per source octet, plus a 3-octet soft break per ≥ 64 characters.
  return 4 * n + 8;
}

/** Whether the "From " at `i` (line start) must be protected. */
function isFromSpace(src: Uint8Array, i: number, n: number): boolean {
  return i + 4 < n && src[i + 1] === 0x72 && src[i + 2] === 0x6f && src[i + 3] === 0x6d && src[i + 4] === SP;
}

/**
 * Encodes `src` into `out` from `pos`; returns the new position. `out` must
 * have `qpMaxLength(src.length)` octets free.
 */
export function encodeQuotedPrintableInto(src: Uint8Array, out: Uint8Array, pos: number): number {
  const n = src.length;
  let col = 0;
  let i = 0;
  while (i < n) {
    const b = src[i]!;
    // Hot path: a run of always-literal octets inside a line (not at its start, room left).
    if (col !== 0 && LITERAL[b] === 1 && col < MAX_CONTENT) {
      const stop = Math.min(n, i + MAX_CONTENT - col);
      let j = i;
      let c = b;
      do {
        out[pos++] = c;
        if (++j === stop) break;
        c = src[j]!;
      } while (LITERAL[c] === 1);
      col += j - i;
      i = j;
      continue;
    }
    if (b === LF || b === CR) {
      // Rule 4: one hard break for CRLF, LF or CR.
      i += b === CR && i + 1 < n && src[i + 1] === LF ? 2 : 1;
      out[pos++] = CR;
      out[pos++] = LF;
      col = 0;
      continue;
    }

    let len = 1;
    let literal: boolean;
    if (b < 0x80) {
      literal = asciiLiteral(src, i, n, b, col);
    } else {
      // A UTF-8 sequence is one unit: its triplets stay on one line.
      const want = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      while (len < want && i + len < n && (src[i + len]! & 0xc0) === 0x80) len++;
      literal = false;
    }
    let width = literal ? 1 : 3 * len;
    if (col + width > MAX_CONTENT) {
      // Rule 5: soft break.
      out[pos++] = EQ;
      out[pos++] = CR;
      out[pos++] = LF;
      col = 0;
      if (b < 0x80) {
        literal = asciiLiteral(src, i, n, b, 0);
        width = literal ? 1 : 3;
      }
    }
    if (literal) {
      out[pos++] = b;
    } else {
      for (let k = 0; k < len; k++) {
        const o = src[i + k]!;
        out[pos++] = EQ;
        out[pos++] = HEX_HI[o]!;
        out[pos++] = HEX_LO[o]!;
      }
    }
    col += width;
    i += len;
  }
  return pos;
}

function asciiLiteral(src: Uint8Array, i: number, n: number, b: number, col: number): boolean {
  if (LITERAL[b] === 1) {
    if (col !== 0) return true;
    return b !== DOT && !(b === UPPER_F && isFromSpace(src, i, n));
  }
  if (b === SP || b === TAB) {
    // Rule 3: whitespace is literal unless it would end a line or the part.
    if (i + 1 >= n) return false;
    const next = src[i + 1];
    return next !== CR && next !== LF;
  }
  return false;
}

/** Encodes the UTF-8 octets of a text part. */
export function encodeQuotedPrintable(src: Uint8Array): Buffer {
  const scratch = Buffer.allocUnsafe(qpMaxLength(src.length));
  const end = encodeQuotedPrintableInto(src, scratch, 0);
  return Buffer.from(scratch.subarray(0, end));
}
