/**
 * The one MIME composer of the project: a pure function from one recipient's
 * message to the exact octets handed to the transport and scanned by the
 * guard (DESIGN.md invariant 4). No clock, no randomness, no host lookups:
 * the same input gives the same bytes, which a compose-once fast path must
 * reproduce byte for byte.
 *
 * Shape (RFC 5322 message, CRLF everywhere, 7-bit):
 *
 *   Date, From, Reply-To?, To, Subject, Message-ID, List-Id?,
 *   List-Unsubscribe?, List-Unsubscribe-Post?, extra headers...,
 *   MIME-Version: 1.0
 *   Content-Type: multipart/alternative; boundary="=_nl_<40 hex>"
 *
 *   --boundary  text/plain; charset=utf-8, quoted-printable
 *   --boundary  text/html; charset=utf-8, quoted-printable
 *   --boundary--
 *
 * Text first, HTML last: the last alternative is the preferred one (RFC 2046
 * §5.1.4). No preamble, no epilogue. Invariant 1: the input has exactly one
 * `to` and no field for Cc or Bcc; extra headers cannot name recipients
 * (syntax.ts).
 */
import { InternalError } from "../errors.ts";
import { boundaryFor } from "./boundary.ts";
import { formatDate } from "./date.ts";
import { field, mailboxField, phrasePieces, unstructuredField, type Piece } from "./header.ts";
import { encodeQuotedPrintableInto, qpMaxLength } from "./qp.ts";
import {
  checkAddress,
  checkExtraHeaderName,
  checkListId,
  checkMessageId,
  checkUnsubscribeMailto,
  checkUnsubscribeUrl,
  composeFail,
} from "./syntax.ts";

export interface Mailbox {
  /** Display name; may be non-ASCII. */
  name?: string;
  /** addr-spec, emitted exactly as given (the caller normalises). */
  address: string;
}

export interface MessageInput {
  from: Mailbox;
  /** A bare address. */
  replyTo?: string;
  /** Exactly one recipient (invariant 1): there are no cc/bcc fields. */
  to: Mailbox;
  /** May be non-ASCII; CR/LF throw. */
  subject: string;
  /** Already rendered for this recipient. */
  html: string;
  text: string;
  /** `local@domain`, without angle brackets. */
  messageId: string;
  /** Fixed by the caller (the send's start) for reproducible bytes. */
  date: Date;
  /** RFC 2919 list identifier such as `product-news.corp.example` (the composer adds `<>`). */
  listId?: string;
  /** Optional display name of the list (RFC 2919 §3 phrase). */
  listName?: string;
  /** Per-recipient values, already filled. `url` must be https (RFC 8058). */
  unsubscribe?: { url?: string; mailto?: string };
  /** Extra headers, in order. Names: RFC 5322 ftext, none the composer writes or that names recipients. */
  headers?: ReadonlyArray<readonly [string, string]>;
  /** E.g. the newsletter digest: the boundary is derived from it. */
  boundarySeed: string;
}

const PART_HEAD_TEXT =
  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
const PART_HEAD_HTML =
  "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";

/** The header section, CRLF-terminated lines, without the empty line that ends it. */
export function composeHeaders(m: MessageInput, boundary: string): string {
  let h = `Date: ${formatDate(m.date)}\r\n`;
  h += mailboxField("From", m.from);
  if (m.replyTo !== undefined) h += field("Reply-To", [{ sep: " ", text: checkAddress("Reply-To", m.replyTo) }]);
  h += mailboxField("To", m.to);
  h += unstructuredField("Subject", m.subject);
  h += field("Message-ID", [{ sep: " ", text: `<${checkMessageId(m.messageId)}>` }]);
  if (m.listId !== undefined) {
    const id: Piece = { sep: " ", text: `<${checkListId(m.listId)}>` };
    h += field("List-Id", [...phrasePieces("List-Id", m.listName ?? ""), id]);
  } else if (m.listName !== undefined) {
    composeFail("listName is set without listId");
  }
  const url = m.unsubscribe?.url;
  const mailto = m.unsubscribe?.mailto;
  if (url !== undefined || mailto !== undefined) {
    // RFC 2369 §3.2: angle-bracketed URLs, comma-separated, the preferred (one-click https) first.
    const uris: string[] = [];
    if (url !== undefined) uris.push(`<${checkUnsubscribeUrl(url)}>`);
    if (mailto !== undefined) uris.push(`<${checkUnsubscribeMailto(mailto)}>`);
    h += field(
      "List-Unsubscribe",
      uris.map((text, i) => ({ sep: " ", text: i < uris.length - 1 ? `${text},` : text })),
    );
    // RFC 8058 §3.1: one-click only with an https URI in List-Unsubscribe.
    if (url !== undefined) h += "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
  }
  for (const [name, value] of m.headers ?? []) h += unstructuredField(checkExtraHeaderName(name), value);
  h += "MIME-Version: 1.0\r\n";
  // The boundary is 45 characters: the parameter always goes on its own line.
  h += `Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n`;
  return h;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/** Composes the complete message for ONE recipient. Throws FindingsError for a value it cannot emit safely. */
export function composeMessage(m: MessageInput): Buffer {
  const boundary = boundaryFor(m.boundarySeed);
  // The empty line ends the header section (RFC 5322 §2.1); no preamble before the first delimiter.
  const head = `${composeHeaders(m, boundary)}\r\n--${boundary}\r\n${PART_HEAD_TEXT}`;
  const mid = `\r\n--${boundary}\r\n${PART_HEAD_HTML}`;
  const tail = `\r\n--${boundary}--\r\n`;
  const text = Buffer.from(m.text, "utf8");
  const html = Buffer.from(m.html, "utf8");

  const need = head.length + mid.length + tail.length + qpMaxLength(text.length) + qpMaxLength(html.length);
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  const buf = scratch;

  let pos = buf.write(head, 0, "latin1");
  const textStart = pos;
  pos = encodeQuotedPrintableInto(text, buf, pos);
  const textEnd = pos;
  pos += buf.write(mid, pos, "latin1");
  const htmlStart = pos;
  pos = encodeQuotedPrintableInto(html, buf, pos);
  const htmlEnd = pos;
  pos += buf.write(tail, pos, "latin1");

  // Cannot happen ("=_" never occurs in quoted-printable), checked all the same (RFC 2046 §5.1.1).
  const inText = buf.indexOf(boundary, textStart, "latin1");
  const inHtml = buf.indexOf(boundary, htmlStart, "latin1");
  if ((inText >= 0 && inText < textEnd) || (inHtml >= 0 && inHtml < htmlEnd)) {
    throw new InternalError("the multipart boundary occurs in an encoded body part");
  }

  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  return out;
}
