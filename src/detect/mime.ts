/**
 * Decode a MIME body part back to text so the per-message guard (docs/design.md,
 * "The per-message guard") scans what the recipient's mail client will show, not the
 * transfer encoding. Tolerant by design: malformed input is decoded as far as
 * it goes and never throws, because a guard that crashes on odd bytes would be
 * a guard that can be bypassed by odd bytes.
 */

export type TransferEncoding = "quoted-printable" | "base64" | "7bit" | "8bit" | "binary";

/**
 * `encoding` is the Content-Transfer-Encoding value (RFC 2045 §6.1, case-
 * insensitive); unknown values are treated as identity. `charset` is the
 * part's charset parameter; unknown charsets fall back to UTF-8.
 */
export function decodeMimeBody(body: string, encoding: string, charset = "utf-8"): string {
  const enc = encoding.trim().toLowerCase();
  let bytes: Buffer;
  if (enc === "quoted-printable") bytes = decodeQuotedPrintable(body);
  else if (enc === "base64") bytes = decodeBase64(body);
  else return body;
  return bytesToText(bytes, charset);
}

/**
 * RFC 2045 §6.7: `=XX` is one octet (rule 1; lowercase hex accepted as the
 * RFC's "robust implementation" note suggests), `=` at the end of a line is a
 * soft line break (rule 5), trailing whitespace on a line is padding (rule 3).
 * A `=` not followed by two hex digits is kept literally (the note on rule 1).
 */
const HEX2 = /^[0-9a-fA-F]{2}$/;

export function decodeQuotedPrintable(body: string): Buffer {
  const text = body.replace(/[ \t]+(?=\r?\n)/g, "").replace(/=[ \t]*\r?\n/g, "");
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.codePointAt(i)!;
    if (c === 0x3d && HEX2.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      out.push(c);
    } else {
      // 8-bit data inside QP is illegal but seen; keep it as UTF-8.
      const ch = String.fromCodePoint(c);
      for (const b of Buffer.from(ch, "utf8")) out.push(b);
      i += ch.length - 1;
    }
  }
  return Buffer.from(out);
}

/** RFC 2045 §6.8: characters outside the base64 alphabet are ignored. */
export function decodeBase64(body: string): Buffer {
  return Buffer.from(body.replace(/[^A-Za-z0-9+/]/g, ""), "base64");
}

function bytesToText(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || "utf-8").decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}
