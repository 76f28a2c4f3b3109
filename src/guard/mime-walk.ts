/**
 * The MIME tree of a message (RFC 2045, RFC 2046), walked depth-first: every
 * multipart split at its boundary (nested ones too), every leaf decoded by
 * its Content-Transfer-Encoding and charset and handed to the scanner, with
 * part headers, preamble and epilogue (which some readers show).
 *
 * Only text/plain and text/html leaves in UTF-8 (or US-ASCII) are read; any
 * other leaf, anything marked as an attachment or carrying a file name, an
 * encoded multipart (RFC 2045 §6.4) or a Content-* header given twice
 * refuses the message: we never send attachments, and what the guard cannot
 * read it cannot pass.
 */
import { parseHeader, type Header } from "./content-type.ts";
import { splitEntity, type Field } from "./header-block.ts";
import { splitMultipart, validBoundary } from "./multipart.ts";
import { unparseable } from "./refusal.ts";
import { scanField, type Scanner } from "./scanner.ts";
import { scanQuotedPrintableLeaf } from "./qp-units.ts";
import { decodeLeaf } from "./transfer.ts";

const MAX_DEPTH = 8;
const IDENTITY = new Set(["7bit", "8bit", "binary"]);
const UTF8 = new TextDecoder("utf-8", { fatal: true });
/** A media type that can be named in a verdict (no `%`, no `@`). */
const NAMEABLE = /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/;

interface MimeHeaders {
  readonly type: Header;
  readonly cte: string;
  readonly disposition: Header | undefined;
}

/** Walks the body of the top-level entity, whose header fields the caller scans itself. */
export function walkMessage(fields: readonly Field[], body: Buffer, scanner: Scanner): void {
  walk(fields, body, "", 0, [], "text/plain", scanner);
}

function walk(
  fields: readonly Field[],
  body: Buffer,
  path: string,
  depth: number,
  boundaries: readonly string[],
  defaultType: string,
  scanner: Scanner,
): void {
  const label = path === "" ? "body" : `body part ${path}`;
  const h = mimeHeaders(fields, label, defaultType);
  if (h.disposition !== undefined) {
    const d = h.disposition;
    if (d.value !== "inline" || d.params.has("filename") || d.params.has("filename*")) {
      unparseable(label, "an attachment (Content-Disposition, RFC 2183): we never send attachments");
    }
  }
  const type = h.type.value;
  if (type.startsWith("multipart/")) {
    if (!IDENTITY.has(h.cte)) unparseable(label, "an encoded multipart (RFC 2045 §6.4 allows only 7bit, 8bit, binary)");
    const boundary = h.type.params.get("boundary");
    if (boundary === undefined || !validBoundary(boundary)) unparseable(label, "a multipart without a valid boundary (RFC 2046 §5.1.1)");
    if (boundaries.includes(boundary)) unparseable(label, "a nested multipart reusing an enclosing boundary (RFC 2046 §5.1.2)");
    if (depth >= MAX_DEPTH) unparseable(label, `multiparts nested more than ${MAX_DEPTH} deep`);
    const mp = splitMultipart(body, boundary, label);
    scanOctets(scanner, "body/preamble", mp.preamble, label);
    // RFC 2046 §5.1.5: in a digest the default part type is message/rfc822.
    const childDefault = type === "multipart/digest" ? "message/rfc822" : "text/plain";
    const inner = [...boundaries, boundary];
    for (let i = 0; i < mp.parts.length; i++) {
      const p = path === "" ? `${i + 1}` : `${path}.${i + 1}`;
      const part = splitEntity(mp.parts[i]!, `body part ${p}`);
      for (const f of part.fields) scanField(scanner, f, `body/${p}/${f.label}`);
      walk(part.fields, part.body, p, depth + 1, inner, childDefault, scanner);
    }
    scanOctets(scanner, "body/epilogue", mp.epilogue, label);
    return;
  }
  if (type === "text/plain" || type === "text/html") {
    if (h.type.params.has("name") || h.type.params.has("name*")) {
      unparseable(label, "a text part with a file name, which readers show as an attachment: we never send attachments");
    }
    // RFC 3676: a reader joins flowed lines, which could join an address the line-wise scan saw in pieces.
    if (h.type.params.get("format")?.toLowerCase() === "flowed") unparseable(label, "format=flowed text (RFC 3676), which we never write");
    const cs = (h.type.params.get("charset") ?? "us-ascii").toLowerCase();
    const charset = cs === "utf-8" || cs === "utf8" ? "utf-8" : cs === "us-ascii" ? "us-ascii" : undefined;
    if (charset === undefined) unparseable(label, "a charset other than UTF-8 or US-ASCII; we only write UTF-8");
    const where = `body/${type}`;
    if (h.cte === "quoted-printable") {
      // What we write: scanned in units, each distinct unit once (qp-units.ts), with the same result.
      scanQuotedPrintableLeaf(scanner, where, body, charset, type === "text/html", label);
      return;
    }
    const { text, ascii } = decodeLeaf(body, h.cte, charset, label);
    scanner.add(where, text, ascii, type === "text/html");
    return;
  }
  const what = NAMEABLE.test(type) ? type : "non-text";
  unparseable(label, `a ${what} part: attachments and parts other than text/plain and text/html are never sent`);
}

function mimeHeaders(fields: readonly Field[], label: string, defaultType: string): MimeHeaders {
  let ct: string | undefined;
  let cte: string | undefined;
  let cd: string | undefined;
  for (const f of fields) {
    if (f.lower === "content-type") {
      if (ct !== undefined) unparseable(label, "Content-Type given twice");
      ct = f.value;
    } else if (f.lower === "content-transfer-encoding") {
      if (cte !== undefined) unparseable(label, "Content-Transfer-Encoding given twice");
      cte = f.value;
    } else if (f.lower === "content-disposition") {
      if (cd !== undefined) unparseable(label, "Content-Disposition given twice");
      cd = f.value;
    }
  }
  return {
    // RFC 2045 §5.2: no Content-Type means text/plain; charset=us-ascii.
    type: ct === undefined ? { value: defaultType, params: new Map() } : parseHeader(ct, label, true),
    // RFC 2045 §6.1: no Content-Transfer-Encoding means 7bit.
    cte: cte === undefined ? "7bit" : cte.trim().toLowerCase(),
    disposition: cd === undefined ? undefined : parseHeader(cd, label, false),
  };
}

function scanOctets(scanner: Scanner, where: string, bytes: Buffer, label: string): void {
  if (bytes.length === 0) return;
  try {
    scanner.add(where, UTF8.decode(bytes));
  } catch {
    unparseable(label, "a preamble or epilogue that is not UTF-8");
  }
}
