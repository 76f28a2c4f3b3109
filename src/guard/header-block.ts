/**
 * The header section of a message or of a MIME body part: split from the
 * body at the first empty line (RFC 5322 §2.1; RFC 2046 §5.1.1 for parts)
 * and unfolded (RFC 5322 §2.2.3) into one field per entry, in order.
 *
 * Strict where leniency could be used to hide something: a header line
 * without a colon, a continuation line with nothing to continue, bytes that
 * are not UTF-8 (RFC 6532 §3.2 allows UTF-8 in header values, nothing
 * else), and field names outside RFC 5322 §3.6.8 ftext (printable ASCII but
 * `:`), which is also what the composer accepts.
 */
import { unparseable } from "./refusal.ts";

export interface Field {
  /** As written, e.g. `Subject`: ftext, so it may hold `@` and `.`. */
  readonly name: string;
  readonly lower: string;
  /**
   * What a verdict may call the field: the name when it is letters, digits
   * and hyphens (every usual name), else a placeholder, since a name such as
   * `bob@example.net` would carry an address into the verdict.
   */
  readonly label: string;
  /** Unfolded, everything after the colon (leading space kept), not yet RFC 2047 decoded. */
  value: string;
}

export interface Entity {
  readonly fields: Field[];
  readonly body: Buffer;
}

const CR = 0x0d;
const LF = 0x0a;
const LF_CRLF = Buffer.from("\n\r\n", "latin1");
const LF_LF = Buffer.from("\n\n", "latin1");
const UTF8 = new TextDecoder("utf-8", { fatal: true });
const FTEXT_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const PLAIN_NAME = /^[A-Za-z0-9-]+$/;
export const UNUSUAL_NAME = "(a header with an unusual name)";

/**
 * RFC 5322 §2.3: CR and LF occur only together as CRLF. A bare LF is read as
 * a line break, as every parser and MTA does; a bare CR is refused, since
 * some programs end a line there and others do not, and a header that one
 * reader sees and another does not is how a `Bcc:` gets smuggled.
 */
export function checkLineEndings(raw: Buffer): void {
  for (let i = raw.indexOf(CR); i >= 0; i = raw.indexOf(CR, i + 1)) {
    if (raw[i + 1] !== LF) unparseable("message", "a bare CR that is not part of a CRLF line break (RFC 5322 §2.3)");
  }
}

/** Splits at the first empty line; an entity without one is refused. */
export function splitEntity(buf: Buffer, where: string): Entity {
  let headEnd: number;
  let bodyStart: number;
  if (buf[0] === LF) {
    headEnd = 0;
    bodyStart = 1;
  } else if (buf[0] === CR && buf[1] === LF) {
    headEnd = 0;
    bodyStart = 2;
  } else {
    const crlf = buf.indexOf(LF_CRLF);
    // An LF-only empty line before the first CRLF one (mixed line ends) wins.
    const lf = (crlf >= 0 ? buf.subarray(0, crlf + 1) : buf).indexOf(LF_LF);
    if (lf >= 0) {
      headEnd = lf + 1;
      bodyStart = lf + 2;
    } else if (crlf >= 0) {
      headEnd = crlf + 1;
      bodyStart = crlf + 3;
    } else {
      unparseable(where, "no empty line between the header section and the body (RFC 5322 §2.1)");
    }
  }
  let head: string;
  try {
    head = UTF8.decode(buf.subarray(0, headEnd));
  } catch {
    unparseable(where, "header bytes that are not UTF-8 (RFC 6532 §3.2)");
  }
  return { fields: parseFields(head, where), body: buf.subarray(bodyStart) };
}

/** One field per header; continuation lines joined to the field they continue (RFC 5322 §2.2.3). */
export function parseFields(head: string, where: string): Field[] {
  const fields: Field[] = [];
  let start = 0;
  while (start < head.length) {
    let end = head.indexOf("\n", start);
    if (end < 0) end = head.length;
    const line = head.charCodeAt(end - 1) === CR ? head.slice(start, end - 1) : head.slice(start, end);
    start = end + 1;
    const c = line.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      const last = fields[fields.length - 1];
      if (last === undefined) unparseable(where, "the header section starts with a continuation line (RFC 5322 §2.2.3)");
      // Unfolding removes the CRLF only; the whitespace stays.
      last.value += line;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) unparseable(where, "a header line without a field name and colon (RFC 5322 §2.2)");
    const name = line.slice(0, colon);
    if (!FTEXT_NAME.test(name)) unparseable(where, "a header field name outside printable ASCII, or followed by space (RFC 5322 §3.6.8)");
    const label = PLAIN_NAME.test(name) ? name : UNUSUAL_NAME;
    fields.push({ name, lower: name.toLowerCase(), label, value: line.slice(colon + 1) });
  }
  return fields;
}
