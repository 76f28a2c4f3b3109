/**
 * A leaf part's body, from the octets on the wire to the text a reader
 * shows: Content-Transfer-Encoding (RFC 2045 §6) then charset.
 *
 * Quoted-printable is decoded here, strictly and as a byte loop, rather than
 * by src/check/leak/mime.ts's `decodeQuotedPrintable`: that one is tolerant
 * by design (a lone `=` or an 8-bit octet is kept, as RFC 2045 §6.7 suggests
 * for readers) and builds an array of numbers, about 27 µs for 2 KB; this
 * one refuses what readers may disagree on and takes about 3 µs, and the
 * guard runs on every message of a million-message send. The tests check
 * that the two agree on every well-formed input. Base64 reuses mime.ts's
 * decoder after a strict check (base64.ts).
 */
import { isAscii } from "node:buffer";
import { decodeBase64Strict } from "./base64.ts";
import { hex } from "./encoded-word.ts";
import { unparseable } from "./refusal.ts";

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
  if (cte === "quoted-printable") bytes = decodeQuotedPrintableStrict(body, where);
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
 * `=` before a line break is a soft break (rule 5), whitespace before a line
 * break is transport padding and dropped (rule 3). Refused: `=` followed by
 * anything else, and octets above 127 (rule 2: they must be encoded).
 */
export function decodeQuotedPrintableStrict(src: Buffer, where: string): Buffer {
  const n = src.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  let i = 0;
  while (i < n) {
    const c = src[i]!;
    if (c === EQ) {
      const h = hex(src[i + 1] ?? 0);
      const l = hex(src[i + 2] ?? 0);
      if (h >= 0 && l >= 0) {
        out[o++] = (h << 4) | l;
        i += 3;
        continue;
      }
      // Soft line break, possibly with padding after the `=`; or `=` ending the part.
      let j = i + 1;
      while (src[j] === SP || src[j] === TAB) j++;
      if (j >= n) i = n;
      else if (src[j] === LF) i = j + 1;
      else if (src[j] === CR && src[j + 1] === LF) i = j + 2;
      else unparseable(where, "quoted-printable with `=` not followed by two hex digits or a line break (RFC 2045 §6.7)");
    } else if (c === SP || c === TAB) {
      let j = i + 1;
      while (src[j] === SP || src[j] === TAB) j++;
      if (j < n && src[j] !== LF && src[j] !== CR) {
        // Not trailing: keep the run (byte by byte: Buffer#copy costs more for a few bytes).
        while (i < j) out[o++] = src[i++]!;
      }
      i = j;
    } else if (c >= 0x80) {
      unparseable(where, "an 8-bit octet in a quoted-printable part (RFC 2045 §6.7 rule 2)");
    } else {
      out[o++] = c;
      i++;
    }
  }
  return out.subarray(0, o);
}
