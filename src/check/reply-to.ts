/**
 * A strict `reply_to` (docs/design.md, "Address detection"): either a plain
 * address or `Name <address>`, whose address is an ASCII dot-atom with only
 * letters, digits and `. _ + -` before the `@` — what the composer writes
 * (RFC 5322 §3.4.1 as src/compose/syntax.ts checks it) and, proved here, what
 * the address extractor finds in it, unchanged. So the guard, which scans
 * Reply-To like any header, sees exactly the address that replies go to: a
 * local part ending in `=`, which the extractor does not read as an address,
 * cannot ride along as "ours". The newsletter.yml text, reply_to included,
 * is scanned by the leak check like any content.
 */
import { mask } from "../address/mask.ts";
import { parseMailbox } from "../load/mailbox.ts";
import { finding, type Finding, type Position } from "../findings/finding.ts";
import { extractAddresses } from "../detect/extract.ts";

const STRICT_LOCAL = /^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*$/;
const LDH_DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function checkReplyTo(value: string, file: string, at: Position): Finding[] {
  const m = parseMailbox(value);
  if (!m.ok) return []; // the loader reported it
  const addr = m.address;
  const i = addr.lastIndexOf("@");
  const local = addr.slice(0, i);
  const problem =
    !STRICT_LOCAL.test(local) || local.length > 64 ? "its local part may hold only letters, digits and . _ + - (no leading, trailing or double dot)"
    : !LDH_DOMAIN.test(addr.slice(i + 1)) ? "its domain must be ASCII letters, digits and hyphens (write an IDN in its xn-- form)"
    : extractAddresses(addr).join(" ") !== m.normalised ? "the address checks do not read it as exactly that address"
    : m.name !== undefined && extractAddresses(m.name).length > 0 ? "its display name holds an address"
    : null;
  if (problem === null) return [];
  return [finding("reply-to", file, at, `reply_to ${mask(m.normalised)} would not compose as written or could not be checked: ${problem}`)];
}
