/**
 * How the ledger's lines reach its store, in order, and when they are
 * durable (docs/design.md, "The ledger": a claim is durable before its messages
 * go out; outcomes are written at once, made durable with the next claim).
 *
 * Group commit: one fsync (or push) runs at a time; every line written while
 * it runs is covered by a single follow-up that all callers arriving
 * meanwhile share. At tens of claims a second this turns a queue of fsyncs
 * into one or two.
 *
 * With a store that writes synchronously (`appendNow`, the file store) the
 * lines applied in one turn of the event loop go out as one write(2) at the
 * end of that turn (setImmediate) — or, while an fsync runs, when it ends:
 * an append then lands on the very page being written back, and the kernel
 * makes such a write wait for the I/O (stable pages). Before an fsync
 * starts, everything applied so far is written. What a kill -9 can lose is
 * therefore at most the outcomes of messages that finished in that turn or
 * during one fsync — recipients still counted in flight, whose claims are on
 * disk: in doubt, never marked sent unsent.
 * Other stores (the state branch) take lines through an ordered promise
 * queue, as many per append as have piled up.
 */
import type { LedgerStore } from "./store.ts";

export class LedgerWriter {
  /** The first failed write or fsync; raised by the next `durable()`. */
  error: unknown = null;
  /** Sync mode: lines applied while an fsync runs. */
  private held: string[] = [];
  /** Async mode: lines waiting for the queue, the queue, and appends scheduled on it. */
  private pending: string[] = [];
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  /** The fsync running now, and the one that will follow it (group commit). */
  private syncing: Promise<void> | null = null;
  private following: Promise<void> | null = null;
  /** Sync mode: a write of the held lines is due at the end of this turn. */
  private scheduled = false;

  constructor(private readonly store: LedgerStore) {}

  /** Writes one complete line (or several), in order after every earlier one. */
  write(lines: string): void {
    if (this.store.appendNow !== undefined) {
      this.held.push(lines);
      if (this.syncing === null && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.syncing === null) this.writeHeld();
        });
      }
      return;
    }
    this.pending.push(lines);
    if (this.pending.length > 1) return; // an append is already scheduled and will take these lines too
    // Lines applied in the same turn of the event loop go out in one append.
    this.queued++;
    this.tail = this.tail
      .then(() => {
        const all = this.pending.join("");
        this.pending = [];
        return this.store.append(all, false);
      })
      .catch((e: unknown) => {
        this.error ??= e;
      })
      .finally(() => {
        this.queued--;
      });
  }

  /**
   * Resolves once every line written so far is durable. With nothing queued
   * the fsync is issued before this returns, so the caller can work while
   * the disk flushes (pipeline.ts composes meanwhile).
   */
  durable(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.syncing === null) {
      this.writeHeld();
      const run: Promise<void> = (this.queued === 0 ? this.store.append("", true) : this.tail.then(() => this.durableAppend()))
        .catch((e: unknown) => {
          this.error ??= e;
          throw e;
        })
        .finally(() => {
          this.syncing = null;
          this.writeHeld();
        });
      this.syncing = run;
      return run;
    }
    this.following ??= this.syncing
      .catch(() => undefined)
      .then(() => {
        this.following = null;
        return this.durable();
      });
    return this.following;
  }

  private durableAppend(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return this.store.append("", true);
  }

  private writeHeld(): void {
    if (this.held.length === 0) return;
    const lines = this.held.length === 1 ? this.held[0]! : this.held.join("");
    this.held = [];
    try {
      this.store.appendNow!(lines);
    } catch (e) {
      this.error ??= e;
    }
  }
}
