/**
 * A leaf part's body, from the octets on the wire to the text a reader
 * shows: Content-Transfer-Encoding (RFC 2045 §6) then charset.
 *
 * Quoted-printable is decoded here, strictly and over octets, rather than by
 * src/detect/mime.ts's `decodeQuotedPrintable`: that one is tolerant by
 * design (a lone `=` or an 8-bit octet is kept, as RFC 2045 §6.7 suggests
 * for readers) and builds an array of numbers, several times slower; this
 * one refuses what readers may disagree on (bench/README.md, "Figures behind the code"), and the
 * guard runs on every message of a million-message send. test/guard.test.ts
 * checks that the two agree on well-formed input. Base64 reuses mime.ts's
 * decoder after a strict check (base64.ts).
 */
import { isAscii } from "node:buffer";
import { decodeBase64Strict } from "./base64.ts";
import { hex as importedHex } from "./encoded-word.ts";
import { unparseable } from "./refusal.ts";

/** A local binding: the TypeScript loaders (tsx, vite) turn each use of an import into a getter call, measurable in a byte loop. */
const hex = importedHex;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const EQ = 0x3d;
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * `cte` and `charset` lowercased. Charsets: `utf-8` (what we write) and
 * `us-ascii` (RFC 2045 §5.2 default), which must then hold ASCII only.
 */
export function decodeLeaf(body: Buffer, cte: string, charset: "utf-8" | "us-ascii", where: string): { text: string; ascii: boolean } {
  let bytes: Buffer;
  if (cte === "quoted-printable") bytes = decodeQuotedPrintableScratch(body, where);
  else if (cte === "base64") bytes = decodeBase64Strict(body.toString("latin1"), where);
  else if (cte === "7bit" || cte === "8bit" || cte === "binary") bytes = body;
  else unparseable(where, "an unknown Content-Transfer-Encoding (RFC 2045 §6.1)");
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    unparseable(where, "text that is not valid UTF-8");
  }
  const ascii = isAscii(bytes);
  if (charset === "us-ascii" && !ascii) unparseable(where, "non-ASCII text in a part labelled US-ASCII (RFC 2046 §4.1.2)");
  return { text, ascii };
}

/**
 * RFC 2045 §6.7: `=XX` is one octet (rule 1; lower-case hex accepted),
 * `=` ending a line is a soft line break (rule 5), whitespace ending a line
 * is transport padding and dropped (rule 3). Refused: `=` followed by
 * anything else, and octets above 127 (rule 2: they must be encoded).
 *
 * Line by line: a line without `=` inside (the usual English line, whose
 * only `=` is its soft break) is copied in one go; a line with `=XX` in it
 * (non-ASCII text, HTML attributes) is decoded byte by byte.
 */
export function decodeQuotedPrintableStrict(src: Buffer, where: string): Buffer {
  return Buffer.from(decodeQuotedPrintableScratch(src, where));
}

/**
 * The decoder proper, into one buffer reused from call to call (a fresh
 * buffer per part was a tenth of the guard's time): the result is valid
 * until the next call, and decodeLeaf turns it into a string at once.
 */
let scratch = Buffer.allocUnsafe(64 * 1024);

function decodeQuotedPrintableScratch(src: Buffer, where: string): Buffer {
  if (!isAscii(src)) unparseable(where, "an 8-bit octet in a quoted-printable part (RFC 2045 §6.7 rule 2)");
  const n = src.length;
  if (scratch.length < n) scratch = Buffer.allocUnsafe(Math.max(n, scratch.length * 2));
  const out = scratch;
  let o = 0;
  let pos = 0;
  let nextEq = src.indexOf(EQ);
  while (pos < n) {
    const lf = src.indexOf(LF, pos);
    const lineEnd = lf < 0 ? n : lf;
    const crlf = lf > pos && src[lf - 1] === CR;
    let end = crlf ? lineEnd - 1 : lineEnd;
    // Rule 3: whitespace ending a line (and before a soft break's line end) is padding.
    while (end > pos && (src[end - 1] === SP || src[end - 1] === TAB)) end--;
    let soft = false;
    if (nextEq < 0 || nextEq >= end) {
      o = copyRun(src, out, o, pos, end);
    } else if (nextEq === end - 1) {
      o = copyRun(src, out, o, pos, end - 1);
      soft = true;
    } else {
      o = copyRun(src, out, o, pos, nextEq);
      let i = nextEq;
      while (i < end) {
        const c = src[i]!;
        if (c !== EQ) {
          out[o++] = c;
          i++;
        } else if (i === end - 1) {
          soft = true;
          i++;
        } else {
          const h = i + 2 < end ? hex(src[i + 1]!) : -1;
          const l = h >= 0 ? hex(src[i + 2]!) : -1;
          if (l < 0) unparseable(where, "quoted-printable with `=` not followed by two hex digits or a line break (RFC 2045 §6.7)");
          out[o++] = (h << 4) | l;
          i += 3;
        }
      }
    }
    if (nextEq >= 0 && nextEq < lineEnd) nextEq = src.indexOf(EQ, lineEnd);
    if (lf < 0) break;
    if (!soft) {
      if (crlf) out[o++] = CR;
      out[o++] = LF;
    }
    pos = lf + 1;
  }
  return out.subarray(0, o);
}

/** Copies `src[from, to)` to `out` at `o`; returns the new `o`. Short runs by hand: `copy` has a fixed cost. */
function copyRun(src: Buffer, out: Buffer, o: number, from: number, to: number): number {
  if (to - from > 64) return o + src.copy(out, o, from, to);
  for (let i = from; i < to; i++) out[o++] = src[i]!;
  return o;
}
