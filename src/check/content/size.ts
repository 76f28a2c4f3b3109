/**
 * `body-size`: the body's UTF-8 size against `leakage.max_body_bytes`. A
 * newsletter body is a few KB; one that holds a customer list is hundreds
 * (the incident body was ~377 KB), so size is a cheap second net under the
 * leak scan. Gmail also clips messages over 102 KB of HTML.
 */
import { finding, type Finding } from "../../findings/finding.ts";
import { LineIndex } from "../leak/locate.ts";

export interface SizeInput {
  file: string;
  text: string;
  maxBytes: number;
}

export function checkBodySize(input: SizeInput): Finding[] {
  const bytes = Buffer.byteLength(input.text, "utf8");
  if (bytes <= input.maxBytes) return [];
  // Point at the first character past the limit: where to start cutting.
  const offset = offsetAtByte(input.text, input.maxBytes);
  const pos = new LineIndex(input.text).at(offset);
  return [
    finding(
      "body-size",
      input.file,
      pos,
      `body is ${bytes.toLocaleString("en")} bytes (UTF-8), over the limit of ${input.maxBytes.toLocaleString("en")}; the limit is crossed here`,
    ),
  ];
}

/** UTF-16 offset of the character holding UTF-8 byte `limit` (RFC 3629 §3 lengths). */
function offsetAtByte(text: string, limit: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes + n > limit) return i;
    bytes += n;
    if (c >= 0x10000) i++;
  }
  return text.length;
}
