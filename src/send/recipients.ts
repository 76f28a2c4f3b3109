/**
 * The recipients of a send, read from the exact list bytes the checks
 * hashed: parsed again with the same CSV parser, suppressions removed,
 * filtered to this shard. Yields one recipient's row at a time.
 */
import { normaliseAddress } from "../address/normalise.ts";
import { addressProblem } from "../address/validate.ts";
import { RefusedError } from "../errors.ts";
import { listedKeys } from "../guard/listed.ts";
import { CsvParser } from "../load/csv.ts";
import type { AddressFilter } from "../suppress/entry.ts";
import type { StoreSuppressions, SuppressionKey } from "../suppress/apply.ts";

export type { AddressFilter };

export interface Shard {
  index: number; // 1-based
  count: number;
}

export interface ListRow {
  address: string;
  row: Record<string, string>;
}

/** `--shard I/N` → stable: the same recipient always lands in the same shard for the same secret. */
export function inShard(fp: string, shard: Shard | null): boolean {
  if (!shard || shard.count === 1) return true;
  return parseInt(fp.slice(0, 8), 16) % shard.count === shard.index - 1;
}

export function shardName(shard: Shard | null): string {
  return shard ? `${shard.index}-of-${shard.count}` : "all";
}

/**
 * All rows of the list in order. The list passed the checks moments ago;
 * a row that is now invalid means the bytes changed underneath us: refuse.
 *
 * The bytes are decoded 64 KiB at a time (a million rows are ~50 MB, twice
 * that as a string). `dedupe: false` leaves out the set of every address
 * seen (~100 MB at a million rows): `send` keeps its own cheaper guard
 * against a repeated recipient (pipeline.ts), and the checks refused
 * duplicates already.
 */
export function* listRows(
  bytes: Uint8Array,
  file: string,
  suppressions: AddressFilter,
  opts: { dedupe?: boolean } = {},
): Generator<ListRow> {
  const dedupe = opts.dedupe ?? true;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let header: string[] | null = null;
  let emailCol = -1;
  const pending: ListRow[] = [];
  const seen = new Set<string>();
  let problem: string | null = null;
  const parser = new CsvParser({
    onRow(fields, line) {
      if (!header) {
        header = fields.map((f) => f.trim());
        emailCol = header.findIndex((h) => h.toLowerCase() === "email");
        return;
      }
      const raw = fields[emailCol] ?? "";
      const address = normaliseAddress(raw);
      if (!address || addressProblem(address) || fields.length !== header.length) {
        problem ??= `${file}:${line}: row is not valid any more`;
        return;
      }
      if (dedupe) {
        if (seen.has(address)) return; // the checks refused duplicates; never mail twice regardless
        seen.add(address);
      }
      if (suppressions.has(address)) return;
      const row: Record<string, string> = {};
      for (let i = 0; i < header.length; i++) if (i !== emailCol) row[header[i]!] = fields[i] ?? "";
      pending.push({ address, row });
    },
    onError(e) {
      problem ??= `${file}:${e.line}: ${e.reason}`;
    },
  });
  // Small pieces: the rows parsed from one wait in `pending` until the loop takes them, and rows
  // that outlive a young-generation collection move to the old one — RSS a million-row send keeps.
  const CHUNK = 64 * 1024;
  for (let off = 0; off < bytes.length || off === 0; off += CHUNK) {
    const last = off + CHUNK >= bytes.length;
    // A UTF-8 sequence split between chunks is held back by the streaming decoder (fatal on invalid bytes).
    parser.push(decoder.decode(bytes.subarray(off, off + CHUNK), { stream: !last }));
    if (last) parser.end();
    if (problem) throw new RefusedError(`${problem}; the list changed after it was checked — nothing more is sent`);
    yield* pending.splice(0);
    if (bytes.length === 0) break;
  }
  if (emailCol < 0) throw new RefusedError(`${file}: no email column`);
}

export interface ShardRecipient extends ListRow {
  fp: string;
}

export interface ShardRecipients {
  /** Recipients of this shard (after suppressions): the ledger's begin record. */
  count: number;
  /** The shard's first recipient (the canary monitors' message is rendered from its row). */
  first: ListRow | null;
  /** This shard's recipients in list order, parsed again from the same bytes: nothing is held but the current row. */
  rows(): Generator<ShardRecipient>;
}

/**
 * Two passes over the exact list bytes instead of an array of every row: the
 * first counts (and, with --shard, marks each row's membership in a bit set:
 * 1 bit a row), the second yields. The fingerprint is computed in the second
 * pass, and in the first only when a shard needs it.
 */
export function shardRecipients(
  bytes: Uint8Array,
  file: string,
  suppressions: AddressFilter,
  shard: Shard | null,
  fingerprintOf: (address: string) => string,
): ShardRecipients {
  const sharded = shard !== null && shard.count > 1;
  let member = new Uint8Array(1024);
  let count = 0;
  let n = 0;
  let first: ListRow | null = null;
  for (const r of listRows(bytes, file, suppressions, { dedupe: false })) {
    if (sharded) {
      if (n >> 3 >= member.length) {
        const grown = new Uint8Array(member.length * 2);
        grown.set(member);
        member = grown;
      }
      if (inShard(fingerprintOf(r.address), shard)) member[n >> 3]! |= 1 << (n & 7);
      else {
        n++;
        continue;
      }
    }
    n++;
    count++;
    first ??= r;
  }
  const total = n;
  const settled = suppressions.settle?.() ?? suppressions;
  return {
    count,
    first,
    *rows() {
      let i = 0;
      for (const r of listRows(bytes, file, settled, { dedupe: false })) {
        const k = i++;
        if (k >= total) throw new RefusedError(`${file}: the list changed while it was being sent — nothing more is sent`);
        if (sharded && (member[k >> 3]! & (1 << (k & 7))) === 0) continue;
        yield { ...r, fp: fingerprintOf(r.address) };
      }
    },
  };
}

/**
 * The guard's view of the list (guard/listed.ts): the fingerprint keys of
 * every row's address, suppressed ones and those of other shards included,
 * of every suppressed address, and the suppression store's fingerprints
 * (made with the same key). One more pass over the bytes, one HMAC a
 * row (about a second at a million rows); no address is kept.
 */
export function listedKeysOf(
  bytes: Uint8Array,
  file: string,
  suppressed: Iterable<string>,
  fingerprintOf: (address: string) => string,
  suppressedFingerprints: Iterable<string> = [],
): Float64Array {
  function* fps(): Generator<string> {
    for (const r of listRows(bytes, file, new Set(), { dedupe: false })) yield fingerprintOf(r.address);
    for (const a of suppressed) yield fingerprintOf(a);
    yield* suppressedFingerprints;
  }
  return listedKeys(fps());
}

/**
 * The guard's listed keys for messages keyed by `key` (the send's, or the approval copies'): every
 * row of the list, the CSV suppressions, and the suppression store's addresses and (when made
 * under the same key) fingerprints, so an address that left the list but is suppressed still
 * aborts a message that carries it (docs/design.md, "The per-message guard").
 */
export function guardListedKeys(
  bytes: Uint8Array,
  file: string,
  csv: Iterable<string>,
  store: StoreSuppressions | null,
  key: SuppressionKey,
): Float64Array {
  const sameKey = store !== null && store.key.id === key.id;
  return listedKeysOf(bytes, file, [...csv, ...(store?.set.addresses ?? [])], (a) => key.fingerprintOf(a), sameKey ? store.set.fingerprints : []);
}
