/**
 * Where one ledger (one newsletter, one shard) is kept. The file store is
 * the local implementation; src/state/git-ledger-store.ts checkpoints to the
 * `newsletter-state` git branch behind the same interface.
 */
export interface LedgerStore {
  /** Human name for messages (a path or branch:path). */
  readonly name: string;

  /** The whole ledger text so far; "" when it does not exist yet. */
  read(): Promise<string>;

  /**
   * Append complete JSONL lines. With `durable` (the default) the promise
   * resolves once the lines — and everything appended before them — are
   * durable (fsynced, or pushed): the send loop relies on this before it
   * sends a claimed batch. Without it the lines are handed to the OS
   * (write(2)): they survive the death of this process (kill -9), not of the
   * machine. Appends are never concurrent (the caller serialises).
   */
  append(lines: string, durable?: boolean): Promise<void>;

  /**
   * Optional: the same content as `read()`, as UTF-8 bytes in pieces of
   * whole lines (the last piece: whatever follows the last newline), each
   * valid until the next is asked for: for ledgers too big to hold as one
   * string cheaply.
   */
  readPieces?(): AsyncIterable<Buffer>;

  /**
   * Optional: hand complete JSONL lines to the OS now, synchronously
   * (write(2)), like a non-durable append. A store that has it lets the
   * ledger write every outcome the moment it is known, at a few µs each,
   * instead of through the promise queue of `append`. Throws on failure.
   */
  appendNow?(lines: string): void;

  /**
   * Cut a write torn by a crash: keep only the first `keepChars` characters
   * (everything up to and including the last newline). Called before the
   * first append of a run, so new records never follow a partial line.
   */
  truncateTo(keepChars: number): Promise<void>;

  /** Release resources; durable state is unaffected. */
  close(): Promise<void>;
}
