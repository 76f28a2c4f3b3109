/**
 * Splitting a multipart body at its boundary delimiters (RFC 2046 §5.1.1),
 * with `Buffer.indexOf` over the octets, never a string copy of the body.
 *
 * A delimiter line is `--boundary`, optional transport padding (SP, HTAB),
 * then a line break; the close delimiter adds `--`. The line break before a
 * delimiter belongs to it, not to the part. Refused (fail closed): no close
 * delimiter, no part at all, and a line that starts with `--boundary` but is
 * not a delimiter — §5.1.1 forbids the boundary "as the prefix of any line"
 * precisely because readers split such lines differently.
 */
import { unparseable } from "./refusal.ts";

export interface Multipart {
  readonly preamble: Buffer;
  readonly parts: Buffer[];
  readonly epilogue: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const DASH = 0x2d;

/** RFC 2046 §5.1.1 bchars, 1 to 70 characters, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;

export function validBoundary(b: string): boolean {
  return BOUNDARY.test(b);
}

export function splitMultipart(body: Buffer, boundary: string, where: string): Multipart {
  const delim = Buffer.from(`--${boundary}`, "latin1");
  const parts: Buffer[] = [];
  let preamble: Buffer | undefined;
  let partStart = -1;
  let from = 0;
  for (;;) {
    const at = body.indexOf(delim, from);
    if (at < 0) break;
    if (at > 0 && body[at - 1] !== LF) {
      // Not at the start of a line: ordinary content (the boundary must not occur there either, but no reader splits on it).
      from = at + 1;
      continue;
    }
    let p = at + delim.length;
    const close = body[p] === DASH && body[p + 1] === DASH;
    if (close) p += 2;
    while (body[p] === SP || body[p] === TAB) p++;
    let next: number;
    if (p >= body.length) next = p;
    else if (body[p] === LF) next = p + 1;
    else if (body[p] === CR && body[p + 1] === LF) next = p + 2;
    else unparseable(where, "a line that starts with the boundary but is not a delimiter (RFC 2046 §5.1.1)");
    // The CRLF (or LF) before the delimiter is part of it.
    let end = at;
    if (end > 0 && body[end - 1] === LF) end--;
    if (end > 0 && body[end - 1] === CR) end--;
    if (partStart < 0) preamble = body.subarray(0, end);
    else parts.push(body.subarray(partStart, Math.max(partStart, end)));
    if (close) {
      if (parts.length === 0) unparseable(where, "a multipart with no body part (RFC 2046 §5.1.1)");
      return { preamble: preamble ?? Buffer.alloc(0), parts, epilogue: body.subarray(next) };
    }
    partStart = next;
    from = next;
  }
  unparseable(where, partStart < 0 ? "the multipart boundary does not occur in the body (RFC 2046 §5.1.1)" : "no close delimiter `--boundary--` (RFC 2046 §5.1.1)");
}
