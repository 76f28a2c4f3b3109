/**
 * VERP-style bounce addresses (docs/design.md, "Recipient data and
 * suppressions"): `sending.return_path: bounces@corp.example` becomes the
 * envelope sender `bounces+<fp>.<sig>@corp.example` of each message, so an
 * asynchronous bounce names, through its own envelope recipient, whom it is
 * about — verifiably, and without the list.
 */

export function verpAddress(returnPath: string, token: string): string {
  const at = returnPath.lastIndexOf("@");
  return `${returnPath.slice(0, at)}+${token}${returnPath.slice(at)}`;
}

/** The token of a bounce address made from `returnPath`, or null (case-insensitive: some relays lowercase addresses). */
export function verpToken(address: string, returnPath: string): string | null {
  const at = returnPath.lastIndexOf("@");
  const local = returnPath.slice(0, at).toLowerCase();
  const domain = returnPath.slice(at + 1).toLowerCase();
  const m = /^<?([^@<>\s]+)@([^@<>\s]+?)>?$/.exec(address.trim());
  if (!m || m[2]!.toLowerCase() !== domain) return null;
  const l = m[1]!.toLowerCase();
  return l.startsWith(`${local}+`) ? l.slice(local.length + 1) : null;
}
