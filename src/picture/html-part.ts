/**
 * The text and HTML parts of a message as composed (compose/message.ts:
 * multipart/alternative, text first, HTML last, quoted-printable UTF-8),
 * decoded from the very bytes the guard scanned: a picture shows what is
 * sent, not a second rendering of it.
 */
import { decodeQuotedPrintable } from "../detect/mime.ts";
import { InternalError } from "../errors.ts";

const HEAD = (type: string) => `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;

function part(raw: Buffer, type: "plain" | "html"): string {
  const s = raw.toString("latin1");
  const head = HEAD(type);
  const start = s.indexOf(head);
  const boundary = /boundary="([^"]+)"/.exec(s)?.[1];
  const end = boundary === undefined || start < 0 ? -1 : s.indexOf(`\r\n--${boundary}`, start);
  if (start < 0 || end < 0) throw new InternalError(`the composed message has no text/${type} part where the composer puts it`);
  return decodeQuotedPrintable(s.slice(start + head.length, end)).toString("utf8");
}

export function htmlPartOf(raw: Buffer): string {
  return part(raw, "html");
}

export function textPartOf(raw: Buffer): string {
  return part(raw, "plain").replace(/\r\n/g, "\n");
}
