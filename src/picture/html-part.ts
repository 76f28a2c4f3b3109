/**
 * The HTML part of a message as composed (compose/message.ts: multipart/
 * alternative, the HTML part last, quoted-printable UTF-8), decoded from the
 * very bytes the guard scanned: a picture shows what is sent, not a second
 * rendering of it.
 */
import { decodeQuotedPrintable } from "../check/leak/mime.ts";
import { InternalError } from "../errors.ts";

const HTML_HEAD = "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";

export function htmlPartOf(raw: Buffer): string {
  const s = raw.toString("latin1");
  const start = s.indexOf(HTML_HEAD);
  const boundary = /boundary="([^"]+)"/.exec(s)?.[1];
  const end = boundary === undefined ? -1 : s.indexOf(`\r\n--${boundary}--`, start);
  if (start < 0 || end < 0) throw new InternalError("the composed message has no HTML part where the composer puts it");
  return decodeQuotedPrintable(s.slice(start + HTML_HEAD.length, end)).toString("utf8");
}
