/**
 * Everything a send needs that does not depend on the recipient, prepared
 * once per newsletter: the compiled body (with the unsubscribe and postal
 * footer), sender, list headers, the guard's allowlist. `messageFor(row)`
 * then makes one recipient's message from that recipient's row alone
 * (invariant 2).
 */
import { fingerprint, mask } from "../address/mask.ts";
import { normaliseAddress } from "../address/normalise.ts";
import { composeMessage } from "../compose/message.ts";
import { messageIdFor, unsubscribeToken } from "../compose/ids.ts";
import { InternalError } from "../errors.ts";
import type { GuardContext } from "../guard/port.ts";
import { parseMailbox } from "../load/mailbox.ts";
import type { ResolvedConfig } from "../load/schema/config.ts";
import type { NewsletterMeta } from "../load/newsletter-meta.ts";
import { compileBody, fillBody, renderSubject, type CompiledBody } from "../render/body.ts";
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
}

export interface Plan {
  readonly id: string;
  readonly digest: string;
  readonly secret: string;
  fingerprintOf(normalisedAddress: string): string;
  /** The message for one recipient; `row` is that recipient's own row, nothing else. */
  messageFor(address: string, row: Readonly<Record<string, string>>): Outgoing;
  /** The rendered HTML part alone (preview --out x.html). */
  htmlFor(address: string, row: Readonly<Record<string, string>>): string;
}

export function makePlan(p: PlanInput): Plan {
  const { config, meta } = p;
  const from = parseMailbox(config.sender.from);
  if (!from.ok) throw new InternalError(`sender.from is not valid: ${from.problem}`);
  const fromDomain = from.normalised.slice(from.normalised.lastIndexOf("@") + 1);
  const replyTo = meta.reply_to ?? config.sender.reply_to;
  const unsub = config.sender.unsubscribe;
  const listId = config.sender.list_id ?? `${p.id}.${fromDomain}`;

  const compiled: CompiledBody = compileBody(withFooter(p.body, config, p.approvalCopy?.banner), {
    ...(meta.preheader ? { preheader: meta.preheader } : {}),
  });

  const allowAddresses = new Set<string>();
  for (const a of config.leakage.allow_addresses) {
    const n = normaliseAddress(a);
    if (n) allowAddresses.add(n);
  }
  const allowDomains = config.leakage.allow_domains.map((d) => d.toLowerCase());
  const own = new Set<string>([from.normalised]);
  for (const a of [replyTo, unsub?.mailto]) {
    const n = a ? normaliseAddress(a) : null;
    if (n) own.add(n);
  }

  const fpOf = (addr: string) => fingerprint(addr, p.secret);

  const render = (address: string, row: Readonly<Record<string, string>>) => {
    const fp = fpOf(address);
    const token = unsubscribeToken(p.secret, listId, fp);
    const unsubscribeUrl = unsub?.url ? unsub.url.replace(/\{\{\s*unsubscribe_token\s*\}\}/g, token) : "";
    const values: Record<string, string> = { ...row, email: address, unsubscribe_token: token, unsubscribe_url: unsubscribeUrl };
    return { fp, token, unsubscribeUrl, filled: fillBody(compiled, values), subject: renderSubject(meta.subject, values) };
  };

  return {
    id: p.id,
    htmlFor: (address, row) => render(address, row).filled.html,
    digest: p.digest,
    secret: p.secret,
    fingerprintOf: fpOf,
    messageFor(address, row) {
      const { fp, token, unsubscribeUrl, filled, subject } = render(address, row);
      const messageId = messageIdFor(p.secret, p.id, fp, fromDomain);
      const raw = composeMessage({
        from: { address: from.address, ...(from.name ? { name: from.name } : {}) },
        ...(replyTo ? { replyTo } : {}),
        to: { address },
        subject: p.approvalCopy ? `[Approval copy] ${subject}` : subject,
        html: filled.html,
        text: filled.text,
        messageId,
        date: p.date,
        listId,
        ...(unsub ? { unsubscribe: { ...(unsubscribeUrl ? { url: unsubscribeUrl } : {}), ...(unsub.mailto ? { mailto: `${unsub.mailto}?subject=unsubscribe%20${token}` } : {}) } } : {}),
        headers: [["X-Newsletter-Id", p.id], ...(p.approvalCopy ? [["X-Newsletter-Approval-Copy", p.digest] as const] : [])],
        boundarySeed: p.digest,
      });
      const guard: GuardContext = {
        recipient: address,
        allowAddresses,
        allowDomains,
        ownAddresses: new Set([...own, messageId.toLowerCase()]),
      };
      return { envelope: { from: from.address, to: address }, raw, messageId, guard };
    },
  };
}

/**
 * Every production message ends with how to unsubscribe and the postal
 * address (CAN-SPAM, and RFC 8058 expects a visible way too). Approval copies
 * start with the banner so nobody mistakes one for the real send.
 */
function withFooter(body: string, config: ResolvedConfig, banner?: string): string {
  const parts: string[] = [];
  if (banner) parts.push(banner, "");
  parts.push(body.trimEnd(), "", "---", "");
  const url = config.sender.unsubscribe?.url;
  if (url) parts.push(`[Unsubscribe](${url})`, "");
  if (config.sender.postal_address) parts.push(escapeMarkdown(config.sender.postal_address), "");
  return parts.join("\n");
}

function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, "\\$&");
}

export { mask };
