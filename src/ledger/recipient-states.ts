/**
 * Each recipient's latest state in a ledger, and what each record does to
 * it. Read like a Map (get, has, size, entries), written only through
 * apply(), with the counts kept as it goes. Fingerprints as the ledger
 * writes them (32 lowercase hex characters) live in a compact table
 * (hex-table.ts) and are applied straight from the file's bytes; any
 * other string (tests, a ledger edited by hand) in a Map: the same string
 * is always the same recipient, whichever holds it.
 */
import type { FpSpans } from "./fold-bytes.ts";
import { HEX_FP_CHARS, HexTable } from "./hex-table.ts";

export type RecipientState = "claimed" | "sent" | "failed-permanent" | "failed-transient";

/** Codes; 0 is "no state" (never claimed, or released). */
const STATES: readonly (RecipientState | undefined)[] = [undefined, "claimed", "sent", "failed-permanent", "failed-transient"];

/** A record's effect: the next code for each current code (index). */
export type Transition = Readonly<Uint8Array>;

const step = (next: number[]): Transition => Uint8Array.from(next);

//                        none claimed sent perm trans
/** A claim: a new claim after a transient failure (a retry on resume) is in doubt again; sent and permanent failures stay. */
export const CLAIM = step([1, 1, 2, 3, 1]);
/** The server accepted the message: sent, whatever came before (a transient failure then a retry). */
export const SENT = step([2, 2, 2, 2, 2]);
/** The server refused it for good; a message already accepted stays sent. */
export const FAIL_PERMANENT = step([3, 3, 2, 3, 3]);
/** Transient failures exhausted: safe to try again; a message already accepted stays sent. */
export const FAIL_TRANSIENT = step([4, 4, 2, 4, 4]);
/** Claimed but never handed to the transport: unclaimed again. Nothing else changes. */
export const RELEASE = step([0, 0, 2, 3, 4]);

export class RecipientStates implements Iterable<[string, RecipientState]> {
  private readonly hex: HexTable;
  private readonly other = new Map<string, number>();
  /** Recipients per code (index 0 unused). */
  private readonly tally = new Int32Array(5);

  /** `expected`: recipients to make room for at once (a hint; it grows past it). */
  constructor(expected = 0) {
    this.hex = new HexTable(expected);
  }

  get(fp: string): RecipientState | undefined {
    if (!this.hex.loadString(fp)) return STATES[this.other.get(fp) ?? 0];
    const slot = this.hex.find(false);
    return slot < 0 ? undefined : STATES[this.hex.code(slot)];
  }

  has(fp: string): boolean {
    return this.get(fp) !== undefined;
  }

  get size(): number {
    return this.tally[1]! + this.tally[2]! + this.tally[3]! + this.tally[4]!;
  }

  /** Recipients in each state. */
  count(state: RecipientState): number {
    return this.tally[STATES.indexOf(state)]!;
  }

  /** Applies a record's transition to one recipient. */
  apply(fp: string, t: Transition): void {
    if (this.hex.loadString(fp)) return this.applyLoaded(t);
    const cur = this.other.get(fp) ?? 0;
    const next = t[cur]!;
    if (next === cur) return;
    if (next === 0) this.other.delete(fp);
    else this.other.set(fp, next);
    this.tally[cur] = this.tally[cur]! - 1;
    this.tally[next] = this.tally[next]! + 1;
  }

  /**
   * apply() for the fingerprint written as the 32 bytes at `buf[at]`, when
   * they are lowercase hex (the caller checked they are inside one JSON
   * string); false, changing nothing, when they are not. For a `sent`
   * line: its slot was just read by its claim's applySpans().
   */
  applyBytes(buf: Uint8Array, at: number, t: Transition): boolean {
    if (!this.hex.loadBytes(buf, at)) return false;
    this.applyLoaded(t);
    return true;
  }

  /**
   * apply() for each fingerprint of a line read by fold-bytes.ts (plain
   * bytes: latin1 is the string JSON.parse would give), in order, the
   * table's slots for all of them fetched together first (HexTable.stage).
   */
  applySpans(buf: Buffer, spans: FpSpans, t: Transition): void {
    this.hex.stage(buf, spans.starts, spans.ends, spans.count);
    for (let k = 0; k < spans.count; k++) {
      if (this.hex.loadStaged(k)) this.applyLoaded(t);
      else this.apply(buf.toString("latin1", spans.starts[k]!, spans.ends[k]!), t);
    }
  }

  /** Fingerprints not as Ledger writes them first, then the table's, each in the order they came. */
  *entries(): IterableIterator<[string, RecipientState]> {
    for (const [fp, code] of this.other) yield [fp, STATES[code]!];
    for (const [fp, code] of this.hex.entries()) yield [fp, STATES[code]!];
  }

  [Symbol.iterator](): IterableIterator<[string, RecipientState]> {
    return this.entries();
  }

  *keys(): IterableIterator<string> {
    for (const [fp] of this.entries()) yield fp;
  }

  *values(): IterableIterator<RecipientState> {
    for (const [, s] of this.entries()) yield s;
  }

  private applyLoaded(t: Transition): void {
    const slot = this.hex.find(t[0] !== 0); // only a transition from "no state" needs a new key
    if (slot < 0) return;
    const cur = this.hex.code(slot);
    const next = t[cur]!;
    if (next === cur) return;
    this.hex.setCode(slot, next);
    this.tally[cur] = this.tally[cur]! - 1;
    this.tally[next] = this.tally[next]! + 1;
  }
}

