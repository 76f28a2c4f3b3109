/**
 * The suppression store as every reader applies it (docs/design.md,
 * "Recipient data and suppressions"): `check` and `manifest` for their counts
 * and their content lookup, the approval copy for its banner, and the send
 * before its first message. One reading, one filter, one count, so the
 * numbers the approvers see are the ones the send acts on.
 *
 * A fingerprint entry can only be matched by a reader holding the key it was
 * made with (NEWSLETTER_SECRET): the approval environment never holds it
 * ("Trust boundary"), so there such entries are counted as `otherKey`, and the
 * counts say that the send may remove more.
 */
import { SuppressionSet, type AddressFilter } from "./entry.ts";
import type { SuppressionStore } from "./store.ts";

/** The key fingerprint entries are matched with: its id (ledger.ts keyId) and the fingerprint it makes. */
export interface SuppressionKey {
  id: string;
  fingerprintOf(normalisedAddress: string): string;
}

/** The store read once under one key. */
export interface StoreSuppressions {
  /** Where it was read from, for messages. */
  location: string;
  key: SuppressionKey;
  set: SuppressionSet;
}

/** Every entry of `store`, as a set matched under `key`. Throws as `SuppressionStore.read` does. */
export async function readStoreSuppressions(store: SuppressionStore, key: SuppressionKey): Promise<StoreSuppressions> {
  const set = new SuppressionSet(key.id);
  for (const e of await store.read()) set.add(e);
  return { location: store.location, key, set };
}

/** Who is not mailed: the CSV suppressions in git, then the store's addresses and fingerprints. */
export function suppressionFilter(store: StoreSuppressions, csv?: { has(address: string): boolean }): AddressFilter {
  return store.set.filter((a) => store.key.fingerprintOf(a), csv);
}

/**
 * Of a list's distinct addresses, how many the store removes that the CSV
 * suppressions do not: "N recipients, M suppressed by the store, K mailed".
 */
export function countStoreSuppressed(addresses: Iterable<string>, store: StoreSuppressions, csv?: ReadonlySet<string>): number {
  const filter = suppressionFilter(store);
  let n = 0;
  for (const a of addresses) if (!csv?.has(a) && filter.has(a)) n++;
  return n;
}

/**
 * The store's entries as the content lookups read them (the checks' address
 * book, the guard's listed set): its addresses, and a `has` that fingerprints
 * a candidate under the key. No address is kept for a fingerprint entry.
 */
export function storeLookup(store: StoreSuppressions): { has(normalisedAddress: string): boolean } {
  const { addresses, fingerprints } = store.set;
  return { has: (a) => addresses.has(a) || (fingerprints.size > 0 && fingerprints.has(store.key.fingerprintOf(a))) };
}
