/**
 * What earlier sends recorded, as far as the checks need it: the size of a
 * list when it was last sent. The ledger writes one `begin` record
 * at the top of each newsletter/shard file; this module only reads those.
 */

export interface BeginRecord {
  t: "begin";
  /** Newsletter id (`YYYY-MM-DD-slug`). */
  id: string;
  /** List name (`recipients/<list>.csv`). */
  list: string;
  /** Valid rows of the whole list at the time of that send (before suppressions). */
  list_rows: number;
  digest: string;
  /** ISO 8601 time the send began. */
  at: string;
  /** `all`, or `I-of-N` (absent in the oldest records). */
  shard?: string;
  /**
   * The inputs of its own, by sha256 of their canonical bytes, and the git blob id of the list's
   * bytes as sent: a begun newsletter is judged by these, not by the shared inputs that later
   * change (docs/design.md, "Sent at most once"). Absent in ledgers begun before they were recorded.
   */
  inputs?: BegunInputs;
}

export interface BegunInputs {
  newsletter: string;
  body: string;
  list: string;
  /** `git hash-object` of the list's bytes: where its snapshot is found again in the repository's history. */
  list_blob: string;
}

/** Port onto the state store (a folder locally, the `newsletter-state` branch in Actions). */
export interface HistoryPort {
  /** Every begin record of every newsletter and shard. An empty store yields []. Never throws for "no state yet". */
  beginRecords(): Promise<BeginRecord[]>;
}

/** The most recent send of `list` by another newsletter, or undefined when there was none. */
export function lastSendOfList(records: readonly BeginRecord[], list: string, excludeId: string): BeginRecord | undefined {
  let best: BeginRecord | undefined;
  for (const r of records) {
    if (r.list !== list || r.id === excludeId) continue;
    if (!best || r.at > best.at) best = r;
  }
  return best;
}

export function isBeginRecord(v: unknown): v is BeginRecord {
  const r = v as Partial<BeginRecord> | null;
  return (
    typeof r === "object" && r !== null && r.t === "begin" && typeof r.id === "string" && typeof r.list === "string" &&
    typeof r.list_rows === "number" && typeof r.digest === "string" && typeof r.at === "string"
  );
}
