/**
 * docs/design.md, "One recipient per message", as the guard checks it on the finished bytes: the
 * envelope and `To` name exactly the one recipient.
 */
import { mask } from "../address/mask.ts";
import { normaliseAddress } from "../address/normalise.ts";
import type { Envelope } from "../mail/port.ts";
import { isAllowed } from "./allowed.ts";
import type { GuardContext } from "./port.ts";
import { refuse } from "./refusal.ts";

/** Characters no mailbox we send to contains, and SMTP command injection needs (RFC 5321 §4.1.2). */
const NOT_IN_MAILBOX = /[\s\x00-\x1f\x7f<>,;:"()[\]\\]/;

/**
 * RCPT TO must be the recipient. MAIL FROM, when not null, must be one of
 * our own or allowlisted addresses: a bounce (RFC 3464 DSN) quotes the
 * recipient's address to whoever the reverse-path names.
 */
export function checkEnvelope(envelope: Envelope, ctx: GuardContext): void {
  const to = typeof envelope.to === "string" ? envelope.to : "";
  const n = NOT_IN_MAILBOX.test(to) ? null : normaliseAddress(to);
  if (n !== ctx.recipient) {
    const masked = mask(n ?? to);
    refuse("envelope", "envelope/RCPT TO", `the envelope recipient ${masked} is not this message's recipient`, masked);
  }
  const from = typeof envelope.from === "string" ? envelope.from : "";
  if (from === "") return;
  const f = NOT_IN_MAILBOX.test(from) ? null : normaliseAddress(from);
  if (f === null || !isAllowed(f, ctx)) {
    const masked = mask(f ?? from);
    refuse(
      "envelope",
      "envelope/MAIL FROM",
      `the bounce address ${masked} is not one of our own or allowlisted addresses; a bounce would quote the recipient's address to it`,
      masked,
    );
  }
}

/**
 * `To` (RFC 5322 §3.4, §3.6.3) must hold exactly one mailbox, the recipient.
 * Parsed on the raw value, before RFC 2047 decoding, as an MTA parses it: a
 * display name `=?utf-8?Q?Yamada=2C_Taro?=` holds no comma. Quoted-strings
 * and comments are skipped; a group (`name: a, b;`) is refused.
 */
export function checkTo(raw: string, ctx: GuardContext): void {
  const members: Array<{ bare: string; angles: string[] }> = [];
  let cur = { bare: "", angles: [] as string[] };
  const n = raw.length;
  let i = 0;
  while (i < n) {
    const c = raw[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < n && raw[j] !== '"') j += raw[j] === "\\" ? 2 : 1;
      if (j >= n) refuse("recipient-header", "To", "an unterminated quoted-string in To (RFC 5322 §3.2.4)");
      cur.bare += "x";
      i = j + 1;
    } else if (c === "(") {
      let depth = 0;
      let j = i;
      for (; j < n; j++) {
        if (raw[j] === "\\") j++;
        else if (raw[j] === "(") depth++;
        else if (raw[j] === ")" && --depth === 0) break;
      }
      if (j >= n) refuse("recipient-header", "To", "an unterminated comment in To (RFC 5322 §3.2.2)");
      cur.bare += " ";
      i = j + 1;
    } else if (c === "<") {
      const j = raw.indexOf(">", i);
      if (j < 0) refuse("recipient-header", "To", "an unterminated angle-addr in To (RFC 5322 §3.4)");
      cur.angles.push(raw.slice(i + 1, j));
      i = j + 1;
    } else if (c === ",") {
      members.push(cur);
      cur = { bare: "", angles: [] };
      i++;
    } else if (c === ":" || c === ";") {
      refuse("recipient-header", "To", "a group in To (RFC 5322 §3.4): exactly one mailbox is allowed");
    } else {
      cur.bare += c;
      i++;
    }
  }
  members.push(cur);
  const real = members.filter((m) => m.angles.length > 0 || m.bare.trim() !== "");
  if (real.length !== 1) {
    refuse("recipient-header", "To", `To names ${real.length} mailboxes; exactly one, the recipient, is allowed (docs/design.md, "One recipient per message")`);
  }
  const m = real[0]!;
  if (m.angles.length > 1) refuse("recipient-header", "To", "To holds more than one angle-addr (RFC 5322 §3.4)");
  const spec = (m.angles[0] ?? m.bare).trim();
  const addr = NOT_IN_MAILBOX.test(spec) ? null : normaliseAddress(spec);
  if (addr !== ctx.recipient) {
    const masked = mask(addr ?? spec);
    refuse("recipient-header", "To", `the To address ${masked} is not the envelope recipient`, masked);
  }
}
