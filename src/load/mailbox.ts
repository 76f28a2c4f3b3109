/**
 * The two address forms configuration accepts: a bare address
 * (`news@corp.example`) and, where a display name makes sense (From,
 * Reply-To), a mailbox `Name <news@corp.example>` or `"Name, Inc." <...>`
 * (RFC 5322 §3.4 name-addr, without comments, groups or obsolete forms).
 * Addresses are checked in their normal form (src/address). Problems are
 * described with the address masked.
 */
import { mask } from "../address/mask.ts";
import { normaliseAddress } from "../address/normalise.ts";
import { ADDRESS_PROBLEM_TEXT, addressProblem } from "../address/validate.ts";

export type AddressCheck = { ok: true; normalised: string } | { ok: false; problem: string };

export type MailboxCheck =
  | { ok: true; name: string | undefined; address: string; normalised: string }
  | { ok: false; problem: string };

// Characters that never belong in a header value written in configuration.
const CONTROL = /[\u0000-\u001f\u007f]/u;

/** A bare address: valid after normalisation. */
export function checkAddress(raw: string): AddressCheck {
  const s = raw.trim();
  if (CONTROL.test(s)) return { ok: false, problem: "contains a line break or control character" };
  if (/[<>]/.test(s)) return { ok: false, problem: `must be a bare address such as news@corp.example, without a name or <>` };
  if (/\s/.test(s)) return { ok: false, problem: `the address ${mask(s)} contains a space` };
  const n = normaliseAddress(s);
  if (n === null) {
    if (!s.includes("@")) return { ok: false, problem: `the address ${mask(s)} ${ADDRESS_PROBLEM_TEXT["no-at"]}` };
    return { ok: false, problem: `the address ${mask(s)} is not a valid address (its domain cannot be converted to ASCII)` };
  }
  const p = addressProblem(n);
  if (p) return { ok: false, problem: `the address ${mask(s)} ${ADDRESS_PROBLEM_TEXT[p]}` };
  return { ok: true, normalised: n };
}

/** `Name <addr>`, `"Name" <addr>`, `<addr>` or a bare address. */
export function parseMailbox(raw: string): MailboxCheck {
  const s = raw.trim();
  if (CONTROL.test(s)) return { ok: false, problem: "contains a line break or control character" };
  const angle = /^(.*?)\s*<([^<>]*)>$/su.exec(s);
  if (!angle) {
    if (/[<>]/.test(s)) return { ok: false, problem: 'must be "Name <address>" or a bare address; check the < and >' };
    const a = checkAddress(s);
    return a.ok ? { ok: true, name: undefined, address: s, normalised: a.normalised } : a;
  }
  let name = (angle[1] ?? "").trim();
  const address = (angle[2] ?? "").trim();
  if (name.startsWith('"')) {
    const q = /^"((?:[^"\\]|\\.)*)"$/su.exec(name);
    if (!q) return { ok: false, problem: "has a display name with an unbalanced double quote" };
    name = (q[1] ?? "").replace(/\\(.)/gsu, "$1");
  } else if (name.includes('"')) {
    return { ok: false, problem: 'has a double quote inside the display name; quote the whole name: "Name" <address>' };
  }
  const a = checkAddress(address);
  if (!a.ok) return a;
  return { ok: true, name: name === "" ? undefined : name, address, normalised: a.normalised };
}
