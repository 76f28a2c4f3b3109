/**
 * The one MIME composer of the project: a pure function from one recipient's
 * message to the exact octets handed to the transport and scanned by the
 * guard (docs/design.md, "The per-message guard"). No clock, no randomness, no host lookups:
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
 * §5.1.4). No preamble, no epilogue. "One recipient per message": the input has exactly one
 * `to` and no field for Cc or Bcc; extra headers cannot name recipients
 * (syntax.ts).
 */
import { InternalError } from "../errors.ts";
import { assertBoundaryAbsent, boundaryFor } from "./boundary.ts";
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
  /** A bare address, or a mailbox with a display name (a `reply_to: "Name <a@corp.example>"`). */
  replyTo?: string | Mailbox;
  /** Exactly one recipient (docs/design.md, "One recipient per message"): there are no cc/bcc fields. */
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

const NON_ASCII = /[^\x00-\x7f]/;

const PART_HEAD_TEXT =
  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
const PART_HEAD_HTML =
  "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";

/**
 * One remembered field per slot: From, Subject and the like are the same for
 * every recipient of a send, so they are encoded once. The value is a pure
 * function of the key; the memo only saves the work.
 */
const memo = new Map<string, { key: string; line: string }>();
function remembered(slot: string, key: string, make: () => string): string {
  const hit = memo.get(slot);
  if (hit !== undefined && hit.key === key) return hit.line;
  const line = make();
  memo.set(slot, { key, line });
  return line;
}

/** The header section, CRLF-terminated lines, without the empty line that ends it. */
export function composeHeaders(m: MessageInput, boundary: string): string {
  const t = m.date.getTime();
  let h = remembered("Date", String(t), () => `Date: ${formatDate(m.date)}\r\n`);
  const from = m.from;
  h += remembered("From", `${from.name ?? ""}\0${from.address}`, () => mailboxField("From", from));
  const replyTo = m.replyTo;
  if (typeof replyTo === "string") {
    h += remembered("Reply-To", replyTo, () => field("Reply-To", [{ sep: " ", text: checkAddress("Reply-To", replyTo) }]));
  } else if (replyTo !== undefined) {
    h += remembered("Reply-To", `${replyTo.name ?? ""}\0${replyTo.address}`, () => mailboxField("Reply-To", replyTo));
  }
  h += mailboxField("To", m.to);
  h += remembered("Subject", m.subject, () => unstructuredField("Subject", m.subject));
  h += field("Message-ID", [{ sep: " ", text: `<${checkMessageId(m.messageId)}>` }]);
  const listId = m.listId;
  if (listId !== undefined) {
    h += remembered("List-Id", `${m.listName ?? ""}\0${listId}`, () => {
      const id: Piece = { sep: " ", text: `<${checkListId(listId)}>` };
      return field("List-Id", [...phrasePieces("List-Id", m.listName ?? ""), id]);
    });
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
  const extra = m.headers ?? [];
  for (let i = 0; i < extra.length; i++) {
    const [name, value] = extra[i]!;
    h += remembered(`extra ${i}`, `${name}\0${value}`, () => unstructuredField(checkExtraHeaderName(name), value));
  }
  h += "MIME-Version: 1.0\r\n";
  // The boundary is 45 characters: the parameter always goes on its own line.
  h += `Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n`;
  return h;
}

/**
 * Reused work areas: the octets of one part, and the message being built.
 * Only ever touched inside one synchronous call, so the function stays pure.
 */
let source = Buffer.allocUnsafe(64 * 1024);
let work = Buffer.allocUnsafe(256 * 1024);

/** The UTF-8 octets of `s` in the reused source area (valid until the next call). */
function utf8(s: string): Buffer {
  // A UTF-16 code unit is at most 3 UTF-8 octets.
  if (source.length < s.length * 3) source = Buffer.allocUnsafe(Math.max(s.length * 3, source.length * 2));
  return source.subarray(0, source.write(s, 0, "utf8"));
}

/**
 * The fixed text around the two parts, shared with the compose-once fast path
 * (fast.ts): after the header section, between the parts, and the close.
 */
export function messageFrame(boundary: string): { open: string; mid: string; tail: string } {
  return {
    // The empty line ends the header section (RFC 5322 §2.1); no preamble before the first delimiter.
    open: `\r\n--${boundary}\r\n${PART_HEAD_TEXT}`,
    mid: `\r\n--${boundary}\r\n${PART_HEAD_HTML}`,
    tail: `\r\n--${boundary}--\r\n`,
  };
}

/** Every header path emits ASCII only (encoded-words, checked addresses and URLs); latin1 writes it as is. */
export function checkAsciiHead(head: string): void {
  if (NON_ASCII.test(head)) throw new InternalError("a composed header holds a non-ASCII character");
}

/** Composes the complete message for ONE recipient. Throws FindingsError for a value it cannot emit safely. */
export function composeMessage(m: MessageInput): Buffer {
  const boundary = boundaryFor(m.boundarySeed);
  const frame = messageFrame(boundary);
  const head = `${composeHeaders(m, boundary)}${frame.open}`;
  const mid = frame.mid;
  const tail = frame.tail;
  checkAsciiHead(head);
  const fixed = head.length + mid.length + tail.length;
  const worst = fixed + qpMaxLength(m.text.length * 3) + qpMaxLength(m.html.length * 3);
  if (work.length < worst) work = Buffer.allocUnsafe(Math.max(worst, work.length * 2));
  const buf = work;

  let pos = buf.write(head, 0, "latin1");
  const textStart = pos;
  pos = encodeQuotedPrintableInto(utf8(m.text), buf, pos);
  const textEnd = pos;
  pos += buf.write(mid, pos, "latin1");
  const htmlStart = pos;
  pos = encodeQuotedPrintableInto(utf8(m.html), buf, pos);
  const htmlEnd = pos;
  pos += buf.write(tail, pos, "latin1");

  assertBoundaryAbsent(buf, boundary, [[textStart, textEnd], [htmlStart, htmlEnd]]);

  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  return out;
}
