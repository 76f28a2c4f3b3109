/**
 * Folds ledger records into what a resumed send needs. Pure.
 * Later records win: a transient `fail` followed by `sent` is sent.
 */
import { claimRecordAt, sentFingerprint } from "./fold-bytes.ts";
import { eachLedgerRecord, type BeginRecordV1, type ClaimRecord, type EndRecord, type LedgerRecord } from "./records.ts";

export type RecipientState = "claimed" | "sent" | "failed-permanent" | "failed-transient";

export interface LedgerState {
  begin: BeginRecordV1 | null;
  /** Fingerprint → latest state. */
  recipients: Map<string, RecipientState>;
  ends: EndRecord[];
}

export function foldLedger(records: readonly LedgerRecord[]): LedgerState {
  const state: LedgerState = { begin: null, recipients: new Map(), ends: [] };
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
 * with the same result. One shortcut: claims are applied late — after the
 * next few claims, or before any record that is neither a claim nor `sent`
 * (or at the end) — so the sent records that follow them, nearly all of a
 * ledger (claims of one group and outcomes of the previous interleave),
 * cost one Map update each instead of three. Equivalent: `sent` overrides
 * every state and a claim never changes a sent recipient, and claims are
 * idempotent with each other, so claims commute with claims and with sent
 * records; fail, release and end do not, and find every claim before them
 * applied.
 */
/** Enough for the outcomes of a claim to arrive before it is applied, with groups in flight interleaving. */
const DEFERRED_CLAIMS = 8;

export class LedgerFold {
  private readonly state: LedgerState = { begin: null, recipients: new Map(), ends: [] };
  private lines = 0;
  /** Claims not applied yet, oldest first (at most DEFERRED_CLAIMS). */
  private claims: ClaimRecord[] = [];

  constructor(private readonly file: string) {}

  push(text: string): void {
    const r = this.state.recipients;
    this.lines = eachLedgerRecord(
      text,
      this.file,
      (rec) => {
        if (rec.t === "claim") return this.defer(rec);
        this.settle();
        applyRecord(this.state, rec);
      },
      (fp) => r.set(fp, "sent"),
      this.lines,
    );
  }

  /**
   * A piece of whole lines as UTF-8 bytes (FsLedgerStore.readPieces); returns
   * its length in characters. A `sent` line as Ledger writes it is read in
   * place, its fingerprint copied out as a string of its own (a substring
   * of a big decoded text would keep all of that text alive); any other line
   * is decoded and goes through push().
   */
  pushBytes(buf: Buffer): number {
    const r = this.state.recipients;
    let chars = 0;
    let start = 0;
    while (start < buf.length) {
      const nl = buf.indexOf(0x0a, start);
      if (nl < 0) break; // not a whole line: the caller passes whole lines only
      const fp = sentFingerprint(buf, start, nl);
      const claim = fp === null ? claimRecordAt(buf, start, nl) : null;
      if (fp !== null) {
        this.lines++;
        r.set(fp, "sent");
        chars += nl + 1 - start;
      } else if (claim !== null) {
        this.lines++;
        this.defer(claim);
        chars += nl + 1 - start;
      } else {
        const line = buf.toString("utf8", start, nl + 1);
        chars += line.length;
        this.push(line);
      }
      start = nl + 1;
    }
    return chars;
  }

  finish(): LedgerState {
    this.settle();
    return this.state;
  }

  private defer(claim: ClaimRecord): void {
    this.claims.push(claim);
    if (this.claims.length > DEFERRED_CLAIMS) applyRecord(this.state, this.claims.shift()!);
  }

  private settle(): void {
    for (const c of this.claims) applyRecord(this.state, c);
    this.claims = [];
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
      for (const fp of rec.fps) {
        const cur = r.get(fp);
        // A new claim after a transient failure (a retry on resume) is in doubt again.
        if (cur === undefined || cur === "failed-transient") r.set(fp, "claimed");
      }
      break;
    case "sent":
      r.set(rec.fp, "sent");
      break;
    case "fail":
      if (r.get(rec.fp) !== "sent") r.set(rec.fp, rec.permanent ? "failed-permanent" : "failed-transient");
      break;
    case "release":
      for (const fp of rec.fps) if (r.get(fp) === "claimed") r.delete(fp);
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
  const c: LedgerCounts = { sent: 0, failed: 0, inDoubt: 0, retryable: 0 };
  for (const s of state.recipients.values()) {
    if (s === "sent") c.sent++;
    else if (s === "failed-permanent") c.failed++;
    else if (s === "claimed") c.inDoubt++;
    else c.retryable++;
  }
  return c;
}

export function inDoubt(state: LedgerState): string[] {
  const out: string[] = [];
  for (const [fp, s] of state.recipients) if (s === "claimed") out.push(fp);
  return out;
}
