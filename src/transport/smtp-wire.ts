/**
 * The byte-level parts of our SMTP client (smtp-pipelined.ts). Pure.
 *
 * - Replies (RFC 5321 §4.2): "250-..." continues, "250 ..." ends; the code
 *   is the first three digits. A reply is kept as its lines joined by "\n".
 * - DATA (RFC 5321 §4.5.2 transparency, §2.3.8 line endings): a line
 *   starting with "." gets one more "."; a bare CR or a bare LF becomes CRLF
 *   (as nodemailer's DataStream does: a receiver that ends lines at a lone
 *   CR or LF must not see an end of data where we meant none — "SMTP
 *   smuggling"); then "." on a line of its own ends the data. Our composer
 *   writes CRLF only and never a line starting with "." (quoted-printable
 *   encodes it, RFC 2045 §6.7), so the usual message goes out as it is: no
 *   copy, one scan.
 */

export interface Reply {
  code: number;
  /** All lines, joined with "\n", without CRLF. */
  text: string;
}

/** Accumulates reply lines; `push` returns the replies completed by a chunk. */
export class ReplyParser {
  private partial = "";
  private lines: string[] = [];

  /** Bytes of a reply not yet complete (part of a line, or lines of a multiline reply). */
  get pending(): boolean {
    return this.partial.length > 0 || this.lines.length > 0;
  }

  push(chunk: string, out: Reply[]): void {
    let s = this.partial.length > 0 ? this.partial + chunk : chunk;
    let from = 0;
    for (;;) {
      const nl = s.indexOf("\n", from);
      if (nl < 0) break;
      const end = nl > from && s.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
      const line = s.slice(from, end);
      from = nl + 1;
      this.lines.push(line);
      // "250-" continues a multiline reply (RFC 5321 §4.2.1); anything else ends it.
      if (line.length >= 4 && line.charCodeAt(3) === 0x2d /* - */) continue;
      const text = this.lines.length === 1 ? line : this.lines.join("\n");
      this.lines = [];
      const code = Number.parseInt(line.slice(0, 3), 10);
      out.push({ code: Number.isInteger(code) && code >= 100 && code <= 599 && /^\d{3}/.test(line) ? code : 0, text });
    }
    s = s.slice(from);
    // A server that sends a line without end forever: keep a bounded tail only.
    this.partial = s.length > 64 * 1024 ? s.slice(-1024) : s;
  }
}

/**
 * Does `raw` need anything for DATA beyond the terminator: a line starting
 * with ".", a bare CR or a bare LF? With `indexOf` (memchr) from line break
 * to line break: every LF must follow a CR and precede no "."; then there
 * are no bare CRs exactly when the CRs are as many as the LFs.
 */
export function needsTransparency(raw: Buffer): boolean {
  if (raw.length === 0) return false;
  if (raw[0] === 0x2e) return true;
  let lfs = 0;
  for (let p = raw.indexOf(0x0a); p >= 0; p = raw.indexOf(0x0a, p + 1)) {
    if (p === 0 || raw[p - 1] !== 0x0d || raw[p + 1] === 0x2e) return true;
    lfs++;
  }
  let crs = 0;
  for (let p = raw.indexOf(0x0d); p >= 0; p = raw.indexOf(0x0d, p + 1)) {
    if (++crs > lfs) return true;
  }
  return false;
}

const END_AFTER_LINE = Buffer.from(".\r\n", "latin1");
const END_MID_LINE = Buffer.from("\r\n.\r\n", "latin1");

/**
 * The octets that go after the 354: the message, made transparent, and the
 * end-of-data line. Usually `[raw, terminator]` (written together with one
 * writev); a message that needs stuffing or line-ending repair is copied once.
 */
export function dataChunks(raw: Buffer): Buffer[] {
  if (raw.length === 0) return [END_MID_LINE.subarray(2)]; // no data: ".\r\n" alone
  if (!needsTransparency(raw)) {
    return [raw, raw[raw.length - 1] === 0x0a ? END_AFTER_LINE : END_MID_LINE];
  }
  return [transparent(raw)];
}

/** The slow path: dot-stuffing and CRLF repair in one copy, with the terminator. */
export function transparent(raw: Uint8Array): Buffer {
  // At most one added octet per input octet, plus the terminator.
  const out = Buffer.allocUnsafe(raw.length * 2 + 5);
  let o = 0;
  let prev = 0x0a;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (prev === 0x0d && b !== 0x0a) {
      out[o++] = 0x0a; // bare CR → CRLF
      prev = 0x0a;
    }
    if (b === 0x0a && prev !== 0x0d) out[o++] = 0x0d; // bare LF → CRLF
    else if (b === 0x2e && prev === 0x0a) out[o++] = 0x2e; // "." at the start of a line
    out[o++] = b;
    prev = b;
  }
  if (prev === 0x0d) {
    out[o++] = 0x0a;
    prev = 0x0a;
  }
  if (prev !== 0x0a) {
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  out[o++] = 0x2e;
  out[o++] = 0x0d;
  out[o++] = 0x0a;
  return out.subarray(0, o);
}
