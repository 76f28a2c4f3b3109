/**
 * Reading a delivery status notification (RFC 3464) for the recipients it
 * reports as failed, and the envelope addresses it was delivered to (where a
 * VERP bounce token is). Pure: bytes in, fields out.
 *
 * Hand-written rather than mailparser: mailparser folds the
 * message/delivery-status part into the text body (tried here, 3.14.2), so
 * its per-recipient fields cannot be told apart from the human-readable part.
 * Only what a DSN needs is read: headers, multipart/report parts, and the
 * delivery-status fields (7bit, or base64/quoted-printable if so marked).
 */
export interface DsnRecipient {
  /** Final-Recipient (or Original-Recipient) address, rfc822 type only. */
  address: string | null;
  action: string;
  status: string;
}

export interface Dsn {
  /** Addresses in To, Delivered-To, X-Original-To and Envelope-To: the bounce's own envelope recipient is among them. */
  deliveredTo: string[];
  recipients: DsnRecipient[];
}

/** null when the message is not a DSN (no message/delivery-status part). */
export function parseDsn(bytes: Uint8Array): Dsn | null {
  const text = Buffer.from(bytes).toString("latin1");
  const top = splitHead(text);
  const deliveredTo: string[] = [];
  for (const name of ["to", "delivered-to", "x-original-to", "envelope-to"]) {
    for (const v of top.fields.get(name) ?? []) deliveredTo.push(...(v.match(/[^\s<>,;:"]+@[^\s<>,;:"]+/g) ?? []));
  }
  const status = findStatusPart(top, 0);
  if (status === null) return null;
  return { deliveredTo, recipients: parseStatusFields(status) };
}

interface Entity {
  fields: Map<string, string[]>;
  body: string;
}

function splitHead(text: string): Entity {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m ? text.slice(0, m.index) : text;
  const body = m ? text.slice(m.index + m[0].length) : "";
  const fields = new Map<string, string[]>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { fields, body };
}

function findStatusPart(e: Entity, depth: number): string | null {
  const type = (e.fields.get("content-type")?.[0] ?? "text/plain").toLowerCase();
  if (/^message\/(global-)?delivery-status\b/.test(type)) return decode(e);
  if (!type.startsWith("multipart/") || depth > 4) return null;
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(e.fields.get("content-type")![0]!);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return null;
  const parts = e.body.split(new RegExp(`\\r?\\n?--${b.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`));
  for (const p of parts.slice(1)) {
    const found = findStatusPart(splitHead(p), depth + 1);
    if (found !== null) return found;
  }
  return null;
}

function decode(e: Entity): string {
  const cte = (e.fields.get("content-transfer-encoding")?.[0] ?? "7bit").toLowerCase();
  if (cte === "base64") return Buffer.from(e.body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (cte === "quoted-printable") {
    return Buffer.from(e.body.replace(/=\r?\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
  }
  return Buffer.from(e.body, "latin1").toString("utf8");
}

/** RFC 3464 §2.1: the per-message block, then one block per recipient, separated by blank lines. */
function parseStatusFields(text: string): DsnRecipient[] {
  const out: DsnRecipient[] = [];
  for (const block of text.split(/\r?\n[ \t]*\r?\n/).slice(1)) {
    const f = splitHead(`${block}\n\n`).fields;
    const action = f.get("action")?.[0]?.toLowerCase();
    if (!action) continue;
    const recipient = f.get("final-recipient")?.[0] ?? f.get("original-recipient")?.[0] ?? "";
    const m = /^rfc822\s*;\s*<?([^<>\s]+@[^<>\s]+?)>?$/i.exec(recipient);
    out.push({ address: m ? m[1]! : null, action, status: (f.get("status")?.[0] ?? "").split(/\s/)[0]! });
  }
  return out;
}
