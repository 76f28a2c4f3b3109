/**
 * The ledger's records (docs/design.md, "The ledger"): append-only JSONL, one file
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
  /**
   * How the send was approved: "gate" (`--require-approval`), "none" (`--without-approval`: sent
   * without the approval gate, on purpose). Absent: an outbox or dry run, or a ledger from before.
   */
  approval?: "gate" | "none";
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
  eachLedgerRecord(text, file, (rec) => out.push(rec));
  return out;
}

/**
 * A `sent` line exactly as Ledger writes it (JSON.stringify, keys in this
 * order, no escapes), newline included: read without JSON.parse, which is
 * most of the cost of opening a ledger of a million recipients. Strings
 * without `"`, `\\` or control characters decode to themselves (RFC 8259
 * §7), so the record is the one JSON.parse would give; any other line takes
 * JSON.parse. Sticky: matched in place, no line is copied.
 */
const SENT_LINE = /\{"t":"sent","fp":"([^"\\\x00-\x1f]*)","mid":"([^"\\\x00-\x1f]*)","at":"([^"\\\x00-\x1f]*)"\}\n/y;

/**
 * Calls `onRecord` for each record in order, without holding them all (see
 * parseLedger). With `onSent`, sent records go there as their fingerprint
 * alone, and no object is made for them. Returns the line count so far.
 */
export function eachLedgerRecord(
  text: string,
  file: string,
  onRecord: (rec: LedgerRecord) => void,
  onSent?: (fp: string) => void,
  /** Lines before `text` (for the line numbers of errors, when text is a piece of the file). */
  linesBefore = 0,
): number {
  let start = 0;
  let lineNo = linesBefore;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) break; // torn tail
    lineNo++;
    if (nl === start) {
      start++;
      continue;
    }
    if (text.charCodeAt(start + 6) === 0x73) {
      // `{"t":"s`
      SENT_LINE.lastIndex = start;
      const sent = SENT_LINE.exec(text);
      if (sent !== null && SENT_LINE.lastIndex === nl + 1) {
        start = nl + 1;
        if (onSent) onSent(sent[1]!);
        else onRecord({ t: "sent", fp: sent[1]!, mid: sent[2]!, at: sent[3]! });
        continue;
      }
    }
    const line = text.slice(start, nl);
    start = nl + 1;
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
    onRecord(rec as LedgerRecord);
  }
  return lineNo;
}

export class LedgerCorruptError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgerCorruptError";
  }
}
