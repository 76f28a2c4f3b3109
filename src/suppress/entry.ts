/**
 * Suppression entries and the set they make (docs/design.md, "Recipient data
 * and suppressions"). An entry names a recipient by fingerprint (HMAC of the
 * normalised address under NEWSLETTER_SECRET, as the ledger keys recipients:
 * what an unsubscribe token or a bounce token carries) or by normalised
 * address. Entries only ever remove recipients, so they apply without review.
 * Pure: no store, no clock.
 */
import { normaliseAddress } from "../address/normalise.ts";

export type SuppressionReason = "unsubscribe" | "bounce" | "complaint" | "erasure" | "manual";
const REASONS: ReadonlySet<string> = new Set(["unsubscribe", "bounce", "complaint", "erasure", "manual"]);

export interface SuppressionEntry {
  v: 1;
  at: string;
  reason: SuppressionReason;
  /** Fingerprint (32 hex) under the key named by `key_id`. */
  fp?: string;
  /** Key id of the secret the fingerprint was made with (ledger.ts keyId). */
  key_id?: string;
  /** Normalised address, for entries that came with one (never for erasure). */
  address?: string;
  /** Where it came from: one-click, get-form, mailto, smtp-5xx, dsn, forget... */
  via?: string;
}

/** Who is not mailed, as the send loop asks (send/recipients.ts): the CSV suppressions in git and the store. */
export interface AddressFilter {
  has(normalisedAddress: string): boolean;
  /**
   * After one whole pass over the list: an equivalent filter that answers
   * from what it saw (the fingerprint filter then needs no HMAC per row).
   */
  settle?(): AddressFilter;
}

/** Who must not be mailed: by address, or by fingerprint under the current key. */
export class SuppressionSet {
  readonly addresses = new Set<string>();
  readonly fingerprints = new Set<string>();
  /** Entries made under another secret: their fingerprints cannot be matched any more. */
  otherKey = 0;

  constructor(readonly keyId: string) {}

  add(e: SuppressionEntry): void {
    if (e.address) {
      const a = normaliseAddress(e.address);
      if (a) this.addresses.add(a);
    }
    if (e.fp) {
      if (e.key_id === undefined || e.key_id === this.keyId) this.fingerprints.add(e.fp);
      else if (!e.address) this.otherKey++;
    }
  }

  /**
   * A `has(address)` for the send loop's filter: the CSV suppressions in git,
   * then this set's addresses, then its fingerprints (`fpOf` is the send's own).
   * `settle()` after a whole pass answers from the addresses that pass matched,
   * so the second pass over a list costs no HMAC per row (send/recipients.ts).
   */
  filter(fpOf: (address: string) => string, also?: { has(address: string): boolean }): AddressFilter {
    const { addresses, fingerprints } = this;
    const hits = new Set<string>();
    const listed = (a: string) => (also?.has(a) ?? false) || addresses.has(a);
    return {
      has(a) {
        if (listed(a)) return true;
        if (fingerprints.size === 0 || !fingerprints.has(fpOf(a))) return false;
        hits.add(a);
        return true;
      },
      settle: () => ({ has: (a) => listed(a) || hits.has(a) }),
    };
  }
}

/** One object of the store: JSON Lines. A line that is not an entry throws (a lost suppression mails someone who said no). */
export function parseEntries(text: string, where: string): SuppressionEntry[] {
  const out: SuppressionEntry[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch {
      throw new Error(`${where}:${i + 1}: not a JSON line`);
    }
    const o = e as Partial<SuppressionEntry>;
    const ok =
      typeof o === "object" && o !== null && o.v === 1 && typeof o.at === "string" && typeof o.reason === "string" && REASONS.has(o.reason) &&
      (typeof o.fp === "string" ? /^[0-9a-f]{32}$/.test(o.fp) : o.fp === undefined) &&
      (typeof o.address === "string" || o.address === undefined) && (o.fp !== undefined || o.address !== undefined);
    if (!ok) throw new Error(`${where}:${i + 1}: not a suppression entry`);
    out.push(o as SuppressionEntry);
  });
  return out;
}

export function formatEntries(entries: readonly SuppressionEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join("");
}
