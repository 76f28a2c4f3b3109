/**
 * Folds ledger records into what a resumed send needs. Pure.
 * Later records win: a transient `fail` followed by `sent` is sent. What
 * each record does to a recipient is in recipient-states.ts.
 */
import { FpSpans, nextOdd, readClaimLine, readSentLine } from "./fold-bytes.ts";
import { HEX_FP_CHARS } from "./hex-table.ts";
import {
  CLAIM, FAIL_PERMANENT, FAIL_TRANSIENT, RecipientStates, RELEASE, SENT, type RecipientState,
} from "./recipient-states.ts";
import { eachLedgerRecord, type BeginRecordV1, type EndRecord, type LedgerRecord } from "./records.ts";

export { RecipientStates, type RecipientState };

export interface LedgerState {
  begin: BeginRecordV1 | null;
  /** Fingerprint → latest state (Map-like: get, has, size, entries). */
  recipients: RecipientStates;
  ends: EndRecord[];
}

/** `expected`: recipients to make room for at once (a hint). */
export function emptyLedgerState(expected = 0): LedgerState {
  return { begin: null, recipients: new RecipientStates(expected), ends: [] };
}

export function foldLedger(records: readonly LedgerRecord[]): LedgerState {
  const state = emptyLedgerState();
  for (const rec of records) applyRecord(state, rec);
  return state;
}

/** parseLedger + foldLedger in one pass, never holding every record: what opening a big ledger needs. */
export function foldLedgerText(text: string, file: string): LedgerState {
  const fold = new LedgerFold(file);
  fold.push(text);
  return fold.finish();
}

/**
 * foldLedger over the text of a ledger given piece by piece (whole lines),
 * with the same result: every record is applied in order, as it comes.
 */
export class LedgerFold {
  private readonly state: LedgerState;
  private lines = 0;
  private readonly spans = new FpSpans();

  /** `expected`: recipients the ledger may hold (the begin record's count), to size the table once. */
  constructor(
    private readonly file: string,
    expected = 0,
  ) {
    this.state = emptyLedgerState(expected);
  }

  push(text: string): void {
    const r = this.state.recipients;
    this.lines = eachLedgerRecord(
      text,
      this.file,
      (rec) => applyRecord(this.state, rec),
      (fp) => r.apply(fp, SENT),
      this.lines,
    );
  }

  /**
   * A piece of whole lines as UTF-8 bytes (FsLedgerStore.readPieces); returns
   * its length in characters. `sent` and `claim` lines as Ledger writes them
   * (fold-bytes.ts) are applied from the bytes, their fingerprints never made
   * into strings (a ledger of a million recipients holds a million sent
   * lines); any other line is decoded and goes through push().
   */
  pushBytes(buf: Buffer): number {
    const r = this.state.recipients;
    const spans = this.spans;
    let chars = 0;
    let start = 0;
    let odd = nextOdd(buf, 0);
    while (start < buf.length) {
      let t = SENT;
      let nl = readSentLine(buf, start, spans);
      if (nl < 0) {
        t = CLAIM;
        nl = readClaimLine(buf, start, spans);
      }
      if (nl >= 0 && nl < odd) {
        // A claim's fingerprints together (the index slots of new keys miss the cache); a sent line's one.
        if (t === CLAIM) r.applySpans(buf, spans, t);
        else if (spans.ends[0]! - spans.starts[0]! !== HEX_FP_CHARS || !r.applyBytes(buf, spans.starts[0]!, t)) {
          // Plain bytes, so latin1 gives the string JSON.parse would.
          r.apply(buf.toString("latin1", spans.starts[0]!, spans.ends[0]!), t);
        }
        this.lines++;
        chars += nl + 1 - start; // plain: a character per byte
      } else {
        nl = buf.indexOf(0x0a, start);
        if (nl < 0) break; // not a whole line: the caller passes whole lines only
        if (odd <= nl) odd = nextOdd(buf, nl + 1);
        const line = buf.toString("utf8", start, nl + 1);
        chars += line.length;
        this.push(line);
      }
      start = nl + 1;
    }
    return chars;
  }

  finish(): LedgerState {
    return this.state;
  }
}

/** Applies one record to the state (also used live by the Ledger as it writes). */
export function applyRecord(state: LedgerState, rec: LedgerRecord): void {
  const r = state.recipients;
  switch (rec.t) {
    case "begin":
      if (!state.begin) state.begin = rec;
      break;
    case "claim":
      for (const fp of rec.fps) r.apply(fp, CLAIM);
      break;
    case "sent":
      r.apply(rec.fp, SENT);
      break;
    case "fail":
      r.apply(rec.fp, rec.permanent ? FAIL_PERMANENT : FAIL_TRANSIENT);
      break;
    case "release":
      for (const fp of rec.fps) r.apply(fp, RELEASE);
      break;
    case "end":
      state.ends.push(rec);
      break;
  }
}

export interface LedgerCounts {
  sent: number;
  failed: number;
  inDoubt: number;
  /** Transient failures: not accepted by the server, so safe to try again. */
  retryable: number;
}

export function countLedger(state: LedgerState): LedgerCounts {
  const r = state.recipients;
  return { sent: r.count("sent"), failed: r.count("failed-permanent"), inDoubt: r.count("claimed"), retryable: r.count("failed-transient") };
}

/** The fingerprints claimed without an outcome, sorted (the table keeps no order). */
export function inDoubt(state: LedgerState): string[] {
  const out: string[] = [];
  for (const [fp, s] of state.recipients) if (s === "claimed") out.push(fp);
  return out.sort();
}
