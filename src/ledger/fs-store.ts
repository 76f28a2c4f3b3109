/**
 * LedgerStore on a local file: `<state>/ledger/<id>/<shard>.jsonl`, opened
 * for append, each append followed by fdatasync (fsync(2)) so a claim is on
 * disk before its batch is sent. The directory is fsynced once when the file
 * is created, so the file itself survives a crash (ext4 without it may lose
 * the new directory entry).
 */
import { mkdir, open, readFile, type FileHandle } from "node:fs/promises";
import path from "node:path";
import type { LedgerStore } from "./store.ts";

export function ledgerPath(stateDir: string, id: string, shard: string): string {
  return path.join(stateDir, "ledger", id, `${shard}.jsonl`);
}

export class FsLedgerStore implements LedgerStore {
  private fh: FileHandle | null = null;
  constructor(readonly file: string) {}

  get name(): string {
    return this.file;
  }

  async read(): Promise<string> {
    try {
      return await readFile(this.file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw e;
    }
  }

  async append(lines: string, durable = true): Promise<void> {
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
    await this.fh.appendFile(lines, "utf8");
    if (durable) await this.fh.datasync();
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
  }
}
