/**
 * The ledger's records (DESIGN.md "The ledger"): append-only JSONL, one file
 * per newsletter and shard. Recipients appear only as keyed fingerprints
 * (HMAC of the normalised address, src/address/mask.ts), never as addresses.
 *
 *   begin   first line: what is being sent (digest, list, counts, key id)
 *   claim   before a batch goes out; durable (fsynced) before the first of its messages
 *   sent    the server accepted the message (250 after DATA)
 *   fail    the server refused it: permanent (5xx) or transient retries exhausted
 *   release claimed but never handed to the transport (the run halted first): unclaimed again
 *   end     a run stopped: completed, halted by a signal, or aborted
 *
 * A claim without a later sent/fail for the same fingerprint is IN DOUBT.
 */
import type { BeginRecord } from "./history.ts";

export type { BeginRecord };

export interface BeginRecordV1 extends BeginRecord {
  v: 1;
  /** `all`, or `I-of-N` for `--shard I/N`. */
  shard: string;
  /** Messages this shard will make (after suppressions), monitors excluded. */
  count: number;
  /** HMAC of a constant under the fingerprint key: a changed secret must not resend everyone. */
  key_id: string;
}

export interface ClaimRecord {
  t: "claim";
  fps: string[];
  at: string;
}

export interface SentRecord {
  t: "sent";
  fp: string;
  mid: string;
  at: string;
}

export interface FailRecord {
  t: "fail";
  fp: string;
  permanent: boolean;
  code?: number;
  /** Redacted server reply. */
  reason: string;
  at: string;
}

export interface ReleaseRecord {
  t: "release";
  fps: string[];
  at: string;
}

export interface EndRecord {
  t: "end";
  at: string;
  outcome: "completed" | "halted" | "aborted";
  /** Why it halted or aborted (signal name, guard reason, breaker); no addresses. */
  detail?: string;
}

export type LedgerRecord = BeginRecordV1 | ClaimRecord | SentRecord | FailRecord | ReleaseRecord | EndRecord;

/**
 * Parses the lines of a ledger file. A last line without its newline is a
 * write torn by a crash: it is ignored (its batch was not yet claimed, or its
 * outcome was not yet durable — either way the recipient is not marked sent).
 * Any other malformed line is corruption and throws.
 */
export function parseLedger(text: string, file: string): LedgerRecord[] {
  const out: LedgerRecord[] = [];
  let start = 0;
  let lineNo = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break; // torn tail
    lineNo++;
    const line = text.slice(start, nl);
    start = nl + 1;
    if (line.length === 0) continue;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (e) {
      throw new LedgerCorruptError(`${file}:${lineNo}: not a JSON record`, { cause: e });
    }
    const t = (rec as { t?: unknown })?.t;
    if (t !== "begin" && t !== "claim" && t !== "sent" && t !== "fail" && t !== "release" && t !== "end") {
      throw new LedgerCorruptError(`${file}:${lineNo}: unknown record type`);
    }
    out.push(rec as LedgerRecord);
  }
  return out;
}

export class LedgerCorruptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgerCorruptError";
  }
}
