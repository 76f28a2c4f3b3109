/**
 * The ledger as the send loop uses it: open (refusing a digest or key
 * mismatch), claim a batch durably before sending it, record outcomes, end.
 *
 * Outcomes are written at once but not fsynced: write(2) puts them in the
 * kernel, where they survive a killed process (kill -9, a cancelled runner
 * step), so after such a crash only the messages truly in flight are in
 * doubt. Only a machine crash can lose them, and a lost outcome leaves its
 * recipient claimed, i.e. in doubt — never marked sent without being sent.
 * The claim, which is what prevents a duplicate, is fsynced before sending.
 *
 * Cost at a million recipients: the only waits are the claims' fsyncs, one
 * per group of recipients and shared by the claims that arrive while one
 * runs (writer.ts); pipeline.ts sizes groups so that what is claimed without
 * an outcome never exceeds what is in flight.
 */
import { createHmac } from "node:crypto";
import { RefusedError } from "../errors.ts";
import type { BegunInputs } from "./history.ts";
import type { BeginRecord, BeginRecordV1, LedgerRecord } from "./records.ts";
import { applyRecord, countLedger, LedgerFold, type LedgerCounts, type LedgerState } from "./state.ts";
import type { LedgerStore } from "./store.ts";
import { LedgerWriter } from "./writer.ts";

export function keyId(secret: string): string {
  return createHmac("sha256", secret).update("newsletter-ledger-key-id").digest("hex").slice(0, 16);
}

export interface LedgerOpen {
  id: string;
  list: string;
  listRows: number;
  digest: string;
  shard: string;
  count: number;
  secret: string;
  now: () => Date;
  /** Written into the begin record (BeginRecordV1.approval) when set. */
  approval?: "gate" | "none";
  /** Recorded in the begin record; when the ledger has them, a resume is judged by them (not by `digest`). */
  inputs?: BegunInputs;
  /** Said in the refusal of a ledger written under another key (a trial's ledger is thrown away, a real one never). */
  otherKeyHint?: string;
}

export class Ledger {
  /** Lines to the store in order, group-committed fsyncs (writer.ts). */
  private readonly writer: LedgerWriter;
  private constructor(
    private readonly store: LedgerStore,
    readonly state: LedgerState,
    private readonly now: () => Date,
    /** Dry runs read the ledger but never write it. */
    private readonly readOnly: boolean,
  ) {
    this.writer = new LedgerWriter(store);
  }

  /**
   * Reads the ledger; refuses (exit 1) when it was begun for other inputs
   * (digest) or under another fingerprint key; writes the begin record when new.
   */
  static async open(store: LedgerStore, o: LedgerOpen, opts: { readOnly?: boolean } = {}): Promise<Ledger> {
    const { state, whole, length } = await readLedger(store, o.count);
    if (whole < length && !opts.readOnly) await store.truncateTo(whole);
    const kid = keyId(o.secret);
    if (state.begin) {
      // The key first: a ledger under another key is not this send's at all (a trial's, say).
      if (state.begin.key_id !== kid) {
        throw new RefusedError(
          `the ledger ${store.name} was written under another NEWSLETTER_SECRET (key id ${state.begin.key_id}); with this one every recipient would look new and be mailed again${o.otherKeyHint ? `. ${o.otherKeyHint}` : ""}`,
        );
      }
      const edited = editedSinceBegin(state.begin, o);
      if (edited) {
        throw new RefusedError(
          `the ledger ${store.name} was begun for ${edited.was}, but ${edited.now}: a newsletter is never edited after its send began`,
        );
      }
    }
    const ledger = new Ledger(store, state, o.now, opts.readOnly ?? false);
    if (!state.begin && !ledger.readOnly) {
      const begin: BeginRecordV1 = {
        t: "begin", v: 1, id: o.id, list: o.list, list_rows: o.listRows, digest: o.digest,
        at: o.now().toISOString(), shard: o.shard, count: o.count, key_id: kid,
        ...(o.approval ? { approval: o.approval } : {}),
        ...(o.inputs ? { inputs: o.inputs } : {}),
      };
      await store.append(`${JSON.stringify(begin)}\n`);
      state.begin = begin;
    }
    return ledger;
  }

  counts(): LedgerCounts {
    return countLedger(this.state);
  }

  /** Durable before it resolves, together with every outcome written before it. */
  async claim(fps: readonly string[]): Promise<void> {
    if (fps.length === 0) return;
    this.apply({ t: "claim", fps: [...fps], at: this.now().toISOString() });
    await this.flush();
  }

  recordSent(fp: string, mid: string): void {
    this.apply({ t: "sent", fp, mid, at: this.now().toISOString() });
  }

  recordFailed(fp: string, permanent: boolean, reason: string, code?: number): void {
    this.apply({ t: "fail", fp, permanent, reason, ...(code !== undefined ? { code } : {}), at: this.now().toISOString() });
  }

  /** Claimed recipients that were never handed to the transport (halt/abort): not in doubt. */
  release(fps: readonly string[]): void {
    if (fps.length) this.apply({ t: "release", fps: [...fps], at: this.now().toISOString() });
  }

  async end(outcome: "completed" | "halted" | "aborted", detail?: string): Promise<void> {
    this.apply({ t: "end", at: this.now().toISOString(), outcome, ...(detail ? { detail } : {}) });
    await this.flush();
  }

  /** Waits for every write so far and makes it durable; raises a failed write. */
  flush(): Promise<void> {
    return this.readOnly ? Promise.resolve() : this.writer.durable();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.store.close();
  }

  private apply(rec: LedgerRecord): void {
    applyRecord(this.state, rec);
    if (!this.readOnly) this.writer.write(`${JSON.stringify(rec)}\n`);
  }
}

/**
 * Whether the newsletter's own content changed since its send began
 * (docs/design.md, "Sent at most once"). A ledger that recorded its inputs
 * is judged by its own newsletter.yml and body.md alone: the list is taken
 * from its snapshot (send/list-snapshot.ts) and newer suppressions and
 * config apply. An older ledger knows only the whole digest.
 */
function editedSinceBegin(begin: BeginRecord, o: LedgerOpen): { was: string; now: string } | null {
  const had = begin.inputs;
  if (had && o.inputs) {
    for (const k of ["newsletter", "body"] as const) {
      if (had[k] !== o.inputs[k]) return { was: `${k === "body" ? "body.md" : "newsletter.yml"} ${had[k].slice(0, 12)}…`, now: `it is now ${o.inputs[k].slice(0, 12)}…` };
    }
    return null;
  }
  if (begin.digest === o.digest) return null;
  return { was: `digest ${begin.digest.slice(0, 12)}…`, now: `the inputs now digest to ${o.digest.slice(0, 12)}…` };
}

/** The folded state, the characters up to the last newline, and all of them (a torn tail is the difference). */
async function readLedger(store: LedgerStore, count: number): Promise<{ state: LedgerState; whole: number; length: number }> {
  const fold = new LedgerFold(store.name, count);
  if (store.readPieces === undefined) {
    const text = await store.read();
    fold.push(text);
    return { state: fold.finish(), whole: text.lastIndexOf("\n") + 1, length: text.length };
  }
  let whole = 0;
  let tail = "";
  for await (const piece of store.readPieces()) {
    // Every piece but the last ends with a newline; the last is a torn tail, or empty.
    if (piece.length > 0 && piece[piece.length - 1] === 0x0a) whole += fold.pushBytes(piece);
    else tail = piece.toString("utf8");
  }
  return { state: fold.finish(), whole, length: whole + tail.length };
}
