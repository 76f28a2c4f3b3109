/**
 * Compose once, fill per recipient: the same octets as composeMessage
 * (message.ts) for the same recipient, without rendering and encoding the
 * whole message a million times.
 *
 * Per newsletter: the boundary and the frame around the parts (RFC 2046
 * §5.1.1), and both quoted-printable parts encoded with holes for values
 * (fast-qp.ts; RFC 2045 §6.7 encoding is line-local). Per recipient: the
 * header section through the composer's own composeHeaders (To, Subject as
 * RFC 2047 encoded-words when needed, Message-ID and List-Unsubscribe change;
 * the fields that do not are remembered there), the lines holding a slot
 * filled and re-encoded, and the bytes copied into one buffer.
 *
 * message.ts stays the reference: test/fast-compose.test.ts holds the two
 * byte-identical over generated rows (non-ASCII names, long lines, "=", ".",
 * CRLF, emoji, long subjects).
 */
import type { Slotted } from "../render/body.ts";
import { valueOf } from "../render/slots.ts";
import { assertBoundaryAbsent, boundaryFor } from "./boundary.ts";
import { compileQpTemplate, fillQpSources, qpTemplateMaxLength, writeQpTemplate, type QpTemplate } from "./fast-qp.ts";
import { checkAsciiHead, composeHeaders, messageFrame, type Mailbox, type MessageInput } from "./message.ts";

/** What is the same for every recipient of a send (MessageInput less the per-recipient fields). */
export type FastMessageBase = Omit<MessageInput, "to" | "subject" | "messageId" | "unsubscribe" | "html" | "text">;

/** The compiled body (render/body.ts CompiledBody). */
export interface FastBody {
  readonly text: Slotted;
  readonly html: Slotted;
  /** Every field a slot names: each must be in the values (as fillBody requires). */
  readonly fields: ReadonlySet<string>;
}

export interface FastRecipient {
  to: Mailbox;
  /** Already rendered for this recipient. */
  subject: string;
  messageId: string;
  unsubscribe?: { url?: string; mailto?: string };
  /** What the body's slots are filled from: this recipient's own row (and values derived from it). */
  values: Readonly<Record<string, string>>;
}

export interface FastComposer {
  compose(r: FastRecipient): Buffer;
}

/**
 * Messages are written straight into a slab and handed out as slices of it:
 * one allocation per some sixty messages instead of a fresh ArrayBuffer and a
 * copy per message. A slab lives while any of its messages does (at most the
 * in-flight ones). A message whose worst case would not fit a quarter slab
 * gets a buffer of its own.
 */
const SLAB = 512 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

export function compileFastComposer(base: FastMessageBase, body: FastBody): FastComposer {
  const boundary = boundaryFor(base.boundarySeed);
  const { open, mid, tail } = messageFrame(boundary);
  const text: QpTemplate = compileQpTemplate(body.text, false);
  const html: QpTemplate = compileQpTemplate(body.html, true);
  const fields = [...body.fields];
  const frameLength = open.length + mid.length + tail.length;

  return {
    compose(r: FastRecipient): Buffer {
      for (const f of fields) valueOf(r.values, f); // fail before building anything, as fillBody does
      const textSources = fillQpSources(text, r.values);
      const htmlSources = fillQpSources(html, r.values);
      const m: MessageInput = {
        ...base,
        to: r.to,
        subject: r.subject,
        messageId: r.messageId,
        html: "",
        text: "",
        ...(r.unsubscribe ? { unsubscribe: r.unsubscribe } : {}),
      };
      const headers = composeHeaders(m, boundary);
      checkAsciiHead(headers);

      const worst = headers.length + frameLength + qpTemplateMaxLength(text, textSources) + qpTemplateMaxLength(html, htmlSources);
      let buf: Buffer;
      let base0: number;
      if (worst > SLAB / 4) {
        buf = Buffer.allocUnsafeSlow(worst);
        base0 = 0;
      } else {
        if (slabUsed + worst > SLAB) {
          slab = Buffer.allocUnsafeSlow(SLAB);
          slabUsed = 0;
        }
        buf = slab;
        base0 = slabUsed;
      }
      let pos = base0 + buf.write(headers, base0, "latin1");
      pos += buf.write(open, pos, "latin1");
      const textStart = pos;
      pos = writeQpTemplate(text, textSources, buf, pos);
      const textEnd = pos;
      pos += buf.write(mid, pos, "latin1");
      const htmlStart = pos;
      pos = writeQpTemplate(html, htmlSources, buf, pos);
      const htmlEnd = pos;
      pos += buf.write(tail, pos, "latin1");

      assertBoundaryAbsent(buf, boundary, [[textStart, textEnd], [htmlStart, htmlEnd]]);
      if (buf === slab) slabUsed = (pos + 7) & ~7; // the next message starts 8-aligned after this one
      return buf.subarray(base0, pos);
    },
  };
}
