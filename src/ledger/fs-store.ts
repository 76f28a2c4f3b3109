/**
 * LedgerStore on a local file: `<state>/ledger/<id>/<shard>.jsonl`, opened
 * for append, each append followed by fdatasync (fsync(2)) so a claim is on
 * disk before its batch is sent. The directory is fsynced once when the file
 * is created, so the file itself survives a crash (ext4 without it may lose
 * the new directory entry).
 */
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { LedgerStore } from "./store.ts";

export function ledgerPath(stateDir: string, id: string, shard: string): string {
  return path.join(stateDir, "ledger", id, `${shard}.jsonl`);
}

/**
 * A trial's ledger (a send into the outbox folder): beside its messages, never
 * in the state folder, so a trial is never history and never in the way of
 * the real send (docs/design.md, "Sent at most once"). Deleting outbox/
 * starts the trial over.
 */
export const TRIAL_LEDGER_DIR = ".ledger";
export function trialLedgerPath(root: string, id: string, shard: string): string {
  return path.join(root, "outbox", TRIAL_LEDGER_DIR, id, `${shard}.jsonl`);
}

export class FsLedgerStore implements LedgerStore {
  private fh: FileHandle | null = null;
  /** The descriptor appendNow writes to when it had to open the file itself. */
  private fd: number | null = null;
  constructor(readonly file: string) {}

  get name(): string {
    return this.file;
  }

  async read(): Promise<string> {
    try {
      return (await readFile(this.file)).toString("utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw e;
    }
  }

  /**
   * The bytes in pieces of whole lines, through one reused 1 MiB buffer: a
   * ledger of a million recipients is ~190 MB, and holding it as one buffer
   * and one string costs more in fresh memory than parsing it does. A piece
   * ends after a newline byte (which no UTF-8 sequence contains) and is only
   * valid until the next one is asked for; the last piece is what follows
   * the last newline (a torn tail), possibly empty.
   */
  async *readPieces(): AsyncGenerator<Buffer> {
    let fh: FileHandle;
    try {
      fh = await open(this.file, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    try {
      let buf = Buffer.allocUnsafe(1 << 20);
      let have = 0;
      for (;;) {
        if (have === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2); // one line longer than the buffer
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        const { bytesRead } = await fh.read(buf, have, buf.length - have, null);
        if (bytesRead === 0) break;
        have += bytesRead;
        const cut = buf.lastIndexOf(0x0a, have - 1) + 1;
        if (cut === 0) continue;
        yield buf.subarray(0, cut);
        buf.copy(buf, 0, cut, have);
        have -= cut;
      }
      yield buf.subarray(0, have);
    } finally {
      await fh.close();
    }
  }

  async append(lines: string, durable = true): Promise<void> {
    if (this.fd !== null) {
      // Opened by appendNow: the same descriptor (O_APPEND), so the order of lines is the order of calls.
      if (lines !== "") this.appendNow(lines);
      if (durable) await syncFd(this.fd);
      return;
    }
    if (!this.fh) {
      const dir = path.dirname(this.file);
      await mkdir(dir, { recursive: true });
      this.fh = await open(this.file, "a");
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
    if (lines !== "") await this.fh.appendFile(lines, "utf8");
    if (durable) await syncFd(this.fh.fd);
  }

  /** write(2) now, on the calling thread: a few µs for an outcome line, versus a thread-pool round trip. */
  appendNow(lines: string): void {
    if (this.fd === null && this.fh === null) {
      const dir = path.dirname(this.file);
      mkdirSync(dir, { recursive: true });
      this.fd = openSync(this.file, "a");
      const d = openSync(dir, "r");
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    }
    const fd = this.fd ?? this.fh!.fd;
    const bytes = Buffer.from(lines, "utf8");
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  }

  async truncateTo(keepChars: number): Promise<void> {
    const text = await this.read();
    const bytes = Buffer.byteLength(text.slice(0, keepChars), "utf8");
    const fh = await open(this.file, "r+");
    try {
      await fh.truncate(bytes);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** fdatasync(2) on the thread pool, so the caller's thread keeps working while the disk flushes. */
function syncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

