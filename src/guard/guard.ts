/**
 * The per-message guard (docs/design.md, "The per-message guard"): every composed message is
 * scanned, as the octets that go to SMTP, just before it is handed over. Any
 * address other than the recipient's own, ours and the allowlist refuses it,
 * and the caller aborts the whole send (exit 4): a leak that slipped past
 * the static checks — a list field holding another customer's address —
 * reaches nobody.
 *
 * Steps, each refusing with a reason (refusal.ts), all fail-closed:
 * 1. envelope: RCPT TO is the recipient; MAIL FROM ours (recipient.ts);
 * 2. header section: split, unfolded, names checked (header-block.ts);
 * 3. recipient headers: no Cc, Bcc or Resent-* (RFC 5322 §3.6.3, §3.6.6),
 *    one To holding exactly the recipient, and no field given more often
 *    than RFC 5322 §3.6 allows;
 * 4. MIME tree: every text leaf decoded, attachments refused (mime-walk.ts);
 *    quoted-printable leaves unit by unit, each distinct run of octets up to
 *    a hard line break decoded and scanned once per send (qp-units.ts) —
 *    the same lines as decoding the whole leaf, every octet still compared;
 * 5. addresses in every header and every decoded part (scanner.ts) — a To
 *    that is exactly the recipient's address and a Message-ID that is exactly
 *    ours hold nothing else to find (onlyItsOwn). Strict candidates are held
 *    against the allowlist; every candidate of the strict and the lax reading,
 *    decoded payloads included, is looked up in the send's fingerprints of the
 *    list and the suppressions (listed.ts), and one that is not the recipient
 *    aborts (docs/design.md, "The per-message guard").
 *
 * Pure: bytes and context in, a verdict out; no I/O, no clock.
 */
import type { Envelope } from "../mail/port.ts";
import { checkLineEndings, splitEntity, type Field } from "./header-block.ts";
import { walkMessage } from "./mime-walk.ts";
import type { Guard, GuardContext, GuardVerdict } from "./port.ts";
import { checkEnvelope, checkTo } from "./recipient.ts";
import { Refusal, refuse, unparseable } from "./refusal.ts";
import { Scanner, scanField } from "./scanner.ts";

const OK: GuardVerdict = Object.freeze({ ok: true });

/** RFC 5322 §3.6 table: fields that may occur at most once. */
const AT_MOST_ONCE: ReadonlySet<string> = new Set([
  "date", "from", "sender", "reply-to", "to", "cc", "bcc", "message-id", "in-reply-to", "references", "subject",
]);

export const guardMessage: Guard = (raw: Buffer, envelope: Envelope, ctx: GuardContext): GuardVerdict => {
  try {
    inspect(raw, envelope, ctx);
    return OK;
  } catch (e) {
    if (e instanceof Refusal) {
      return { ok: false, reason: e.reason, where: e.where, masked: e.masked, detail: e.detail };
    }
    // A bug or an input we did not foresee: fail closed, and say nothing taken from the message.
    const kind = e instanceof Error ? e.name : typeof e;
    return { ok: false, reason: "unparseable", where: "message", masked: "", detail: `the guard could not read the message (${kind})` };
  }
};

function inspect(raw: Buffer, envelope: Envelope, ctx: GuardContext): void {
  checkEnvelope(envelope, ctx);
  if (!Buffer.isBuffer(raw) || raw.length === 0) unparseable("message", "an empty message");
  checkLineEndings(raw);
  const top = splitEntity(raw, "header");
  const to = checkRecipientHeaders(top.fields);
  checkTo(to.value, ctx);
  const scanner = new Scanner();
  for (const f of top.fields) if (!onlyItsOwn(f, ctx)) scanField(scanner, f, f.label);
  walkMessage(top.fields, top.body, scanner);
  scanner.check(ctx);
}

/**
 * A field whose whole value is one address the message may carry, written
 * bare: To holding exactly the recipient's address (checkTo has also held it
 * to one mailbox), Message-ID exactly `<our id>`. Nothing else is in it, so
 * scanning it for addresses can find only that one, which is allowed: it is
 * skipped — two of the three lines that are new in every message, so the
 * extractor ran on them for every message: skipping them cut the guard's
 * time per message by about a quarter (bench/README.md, "Figures behind the code"). Any other spelling (a display
 * name, a comment, other case, a second id) is scanned as before.
 */
function onlyItsOwn(f: Field, ctx: GuardContext): boolean {
  if (f.lower === "to") return f.value.trim() === ctx.recipient;
  if (f.lower === "message-id") {
    const v = f.value.trim();
    return v.length > 2 && v.startsWith("<") && v.endsWith(">") && ctx.ownAddresses.has(v.slice(1, -1)) && !/[\s<>]/.test(v.slice(1, -1));
  }
  return false;
}

/** No Cc, Bcc or Resent-*; one To; nothing more often than RFC 5322 §3.6 allows. Returns the To field. */
function checkRecipientHeaders(fields: readonly Field[]): Field {
  const seen = new Set<string>();
  let to: Field | undefined;
  for (const f of fields) {
    const l = f.lower;
    if (l === "cc" || l === "bcc" || l.startsWith("resent-")) {
      refuse("recipient-header", f.label, `a ${f.label} header: every message goes to exactly one recipient, in To only (docs/design.md, "One recipient per message")`);
    }
    if (AT_MOST_ONCE.has(l) || l === "mime-version") {
      if (seen.has(l)) {
        if (l === "to") refuse("recipient-header", f.label, "a second To header (RFC 5322 §3.6: at most one)");
        unparseable(f.label, `${f.label} appears more than once (RFC 5322 §3.6, RFC 2045 §4: at most once)`);
      }
      seen.add(l);
    }
    if (l === "to") to = f;
  }
  if (to === undefined) refuse("recipient-header", "To", "no To header: the recipient must be named in To (docs/design.md, \"One recipient per message\")");
  return to;
}
