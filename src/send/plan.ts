/**
 * Everything a send needs that does not depend on the recipient, prepared
 * once per newsletter: the compiled body (with the unsubscribe and postal
 * footer), sender, list headers, the guard's allowlist. `messageFor(row)`
 * then makes one recipient's message from that recipient's row alone
 * (docs/design.md, "The template sees one row").
 */
import { fingerprint, mask } from "../address/mask.ts";
import { normaliseAddress } from "../address/normalise.ts";
import { compileFastComposer, type FastMessageBase } from "../compose/fast.ts";
import { composeMessage } from "../compose/message.ts";
import { createDkimSigner } from "../compose/dkim.ts";
import { bounceToken, messageIdFor, unsubscribeToken } from "../compose/ids.ts";
import { verpAddress } from "../suppress/verp.ts";
import { InternalError } from "../errors.ts";
import { listedLookup } from "../guard/listed.ts";
import type { GuardContext } from "../guard/port.ts";
import { parseMailbox } from "../load/mailbox.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import type { NewsletterMeta } from "../load/newsletter-meta.ts";
import { compileBody, fillBody, renderSubject, type CompiledBody } from "../render/body.ts";
import { TEXT_COLUMNS } from "../render/cjk.ts";
import { DEFAULT_LAYOUT } from "../render/default-layout.ts";
import { wordsFor } from "../render/locale.ts";
import type { Layout } from "../render/layout.ts";
import type { Outgoing } from "./pipeline.ts";

export interface PlanInput {
  id: string;
  config: ResolvedConfig;
  meta: NewsletterMeta;
  body: string;
  digest: string;
  secret: string;
  /** Fixed for the whole send: the Date header and reproducible bytes. */
  date: Date;
  /** Approval copies: subject prefix and a banner above the body (Markdown). */
  approvalCopy?: { banner: string };
  /**
   * DKIM (RFC 6376) when a key is configured: plain strings, so the plan can be
   * rebuilt inside the worker threads. The signature is the last step, over the
   * exact bytes the guard then scans and the transport sends.
   */
  dkim?: { privateKey: string; selector: string; domain: string };
  /** The repository's own layout (config `layout.file`) as checked; the built-in one when absent. */
  layout?: { file: string; text: string } | null;
  /**
   * The sorted fingerprint keys of every member of the list and every
   * suppressed address (guard/listed.ts, listedKeysOf in recipients.ts): the
   * guard then aborts on any of them, in any spelling, in another's message.
   */
  listed?: Float64Array;
}

export interface Plan {
  readonly id: string;
  readonly digest: string;
  readonly secret: string;
  fingerprintOf(normalisedAddress: string): string;
  /** The deterministic Message-ID of the recipient with this fingerprint (without angle brackets). */
  messageIdOf(fp: string): string;
  /**
   * The message for one recipient; `row` is that recipient's own row, nothing
   * else. `fp` is the address's fingerprint when the caller has it already.
   * Compose-once fast path (compose/fast.ts).
   */
  messageFor(address: string, row: Readonly<Record<string, string>>, fp?: string): Outgoing;
  /** The same message through the reference path (fillBody + composeMessage): byte-identical, slower. */
  referenceMessageFor(address: string, row: Readonly<Record<string, string>>): Outgoing;
  /** The rendered HTML part alone (preview --out x.html). */
  htmlFor(address: string, row: Readonly<Record<string, string>>): string;
}

export function makePlan(p: PlanInput): Plan {
  const { config, meta } = p;
  const from = parseMailbox(config.sender.from);
  if (!from.ok) throw new InternalError(`sender.from is not valid: ${from.problem}`);
  const fromDomain = from.normalised.slice(from.normalised.lastIndexOf("@") + 1);
  const replyTo = meta.reply_to ?? config.sender.reply_to;
  // `reply_to` may be "Name <address>" (load/mailbox.ts): composed as that mailbox, its address ours.
  const reply = replyTo ? parseMailbox(replyTo) : null;
  if (reply && !reply.ok) throw new InternalError(`reply_to is not valid: ${reply.problem}`);
  const replyMailbox = reply?.ok ? { address: reply.address, ...(reply.name ? { name: reply.name } : {}) } : undefined;
  const unsub = config.sender.unsubscribe;
  const listId = config.sender.list_id ?? `${p.id}.${fromDomain}`;

  const compiled: CompiledBody = compileBody(withBanner(p.body, p.approvalCopy?.banner), {
    ...(meta.preheader ? { preheader: meta.preheader } : {}),
    layout: layoutOf(config, p.layout ?? null, from.name ?? from.address, replyMailbox?.address ?? from.address),
    textColumns: TEXT_COLUMNS,
  });

  const allowAddresses = new Set<string>();
  for (const a of config.leakage.allow_addresses) {
    const n = normaliseAddress(a);
    if (n) allowAddresses.add(n);
  }
  const allowDomains = config.leakage.allow_domains.map((d) => d.toLowerCase());
  const own = new Set<string>([from.normalised]);
  for (const a of [reply?.ok ? reply.address : undefined, unsub?.mailto]) {
    const n = a ? normaliseAddress(a) : null;
    if (n) own.add(n);
  }

  const fpOf = (addr: string) => fingerprint(addr, p.secret);
  const listed = p.listed ? listedLookup(p.listed, p.secret) : undefined;

  /** Everything per recipient except the body: identifiers, the values the slots take, the subject. */
  const recipient = (address: string, row: Readonly<Record<string, string>>, fp: string = fpOf(address)) => {
    const token = unsubscribeToken(p.secret, listId, fp);
    const unsubscribeUrl = unsub?.url ? unsub.url.replace(/\{\{\s*unsubscribe_token\s*\}\}/g, token) : "";
    const values: Record<string, string> = { ...row, email: address, unsubscribe_token: token, unsubscribe_url: unsubscribeUrl };
    const subject = renderSubject(meta.subject, values);
    const messageId = messageIdFor(p.secret, p.id, fp, fromDomain);
    const unsubscribe = unsub
      ? { ...(unsubscribeUrl ? { url: unsubscribeUrl } : {}), ...(unsub.mailto ? { mailto: `${unsub.mailto}?subject=unsubscribe%20${token}` } : {}) }
      : undefined;
    return { fp, values, subject: p.approvalCopy ? `${wordsFor(config.sender.locale).approvalSubject} ${subject}` : subject, messageId, unsubscribe };
  };

  const base: FastMessageBase = {
    from: { address: from.address, ...(from.name ? { name: from.name } : {}) },
    ...(replyMailbox ? { replyTo: replyMailbox.name ? replyMailbox : replyMailbox.address } : {}),
    date: p.date,
    listId,
    headers: [["X-Newsletter-Id", p.id], ...(p.approvalCopy ? [["X-Newsletter-Approval-Copy", p.digest] as const] : [])],
    boundarySeed: p.digest,
  };
  const fast = compileFastComposer(base, compiled);

  const sign = p.dkim ? createDkimSigner(p.dkim) : null;
  // sending.return_path: a bounce address per message (VERP), naming the recipient by a verifiable
  // token; only the envelope sender changes (docs/design.md, "Recipient data and suppressions").
  const returnPath = config.sending.return_path;
  const outgoing = (address: string, fp: string, messageId: string, unsigned: Buffer): Outgoing => {
    const raw = sign ? sign(unsigned) : unsigned;
    const bounce = returnPath ? verpAddress(returnPath, bounceToken(p.secret, fp)).toLowerCase() : from.address;
    const guard: GuardContext = {
      recipient: address,
      allowAddresses,
      allowDomains,
      ownAddresses: new Set([...own, messageId.toLowerCase(), bounce.toLowerCase()]),
      ...(listed ? { listed } : {}),
    };
    return { envelope: { from: bounce, to: address }, raw, messageId, guard };
  };

  return {
    id: p.id,
    htmlFor: (address, row) => fillBody(compiled, recipient(address, row).values).html,
    digest: p.digest,
    secret: p.secret,
    fingerprintOf: fpOf,
    messageIdOf: (fp) => messageIdFor(p.secret, p.id, fp, fromDomain),
    messageFor(address, row, fp) {
      const r = recipient(address, row, fp);
      const raw = fast.compose({
        to: { address },
        subject: r.subject,
        messageId: r.messageId,
        ...(r.unsubscribe ? { unsubscribe: r.unsubscribe } : {}),
        values: r.values,
      });
      return outgoing(address, r.fp, r.messageId, raw);
    },
    referenceMessageFor(address, row) {
      const r = recipient(address, row);
      const filled = fillBody(compiled, r.values);
      const raw = composeMessage({
        ...base,
        to: { address },
        subject: r.subject,
        html: filled.html,
        text: filled.text,
        messageId: r.messageId,
        ...(r.unsubscribe ? { unsubscribe: r.unsubscribe } : {}),
      });
      return outgoing(address, r.fp, r.messageId, raw);
    },
  };
}

/** Approval copies start with the banner so nobody mistakes one for the real send. */
function withBanner(body: string, banner?: string): string {
  return banner ? `${banner}\n\n${body}` : body;
}

/**
 * Every message is wrapped in a layout whose footer says who sends it, the
 * postal address, a contact and how to unsubscribe (CAN-SPAM; Japan's Act on
 * Specified Electronic Mail; RFC 8058 expects a visible way too). See
 * docs/design.md, "Layout and pictures".
 */
function layoutOf(config: ResolvedConfig, own: { file: string; text: string } | null, senderName: string, contact: string): Layout {
  const url = config.sender.unsubscribe?.url;
  return {
    source: own?.text ?? DEFAULT_LAYOUT,
    file: own?.file ?? "the built-in layout",
    locale: config.sender.locale,
    brandColor: config.layout.brand_color,
    senderName,
    contact,
    ...(config.layout.logo_url ? { logoUrl: config.layout.logo_url } : {}),
    ...(config.sender.postal_address ? { postalAddress: config.sender.postal_address } : {}),
    ...(url ? { unsubscribeUrl: url } : {}),
  };
}

export { mask };
