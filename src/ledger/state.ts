/**
 * Folds ledger records into what a resumed send needs. Pure.
 * Later records win: a transient `fail` followed by `sent` is sent.
 */
import type { BeginRecordV1, EndRecord, LedgerRecord } from "./records.ts";

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
