/**
 * HistoryPort over the local state folder: `<state>/ledger/<id>/<shard>.jsonl`,
 * whose first line is the begin record. Only first lines are read, so a
 * million-entry ledger costs nothing here.
 */
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { isBeginRecord, type BeginRecord, type HistoryPort } from "./history.ts";

export class FsHistory implements HistoryPort {
  constructor(readonly stateDir: string) {}

  async beginRecords(): Promise<BeginRecord[]> {
    const ledgerDir = path.join(this.stateDir, "ledger");
    const ids = await readdir(ledgerDir, { withFileTypes: true }).catch(() => []);
    const out: BeginRecord[] = [];
    for (const d of ids) {
      if (!d.isDirectory()) continue;
      const files = await readdir(path.join(ledgerDir, d.name)).catch(() => [] as string[]);
      for (const f of files) {
        if (!f.endsWith(".jsonl")) continue;
        const first = await firstLine(path.join(ledgerDir, d.name, f));
        if (!first) continue;
        try {
          const rec: unknown = JSON.parse(first);
          if (isBeginRecord(rec)) out.push(rec);
        } catch {
          // A torn first line means the send never began: nothing was recorded.
        }
      }
    }
    return out;
  }
}

async function firstLine(file: string): Promise<string | null> {
  const fh = await open(file, "r").catch(() => null);
  if (!fh) return null;
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const s = buf.subarray(0, bytesRead).toString("utf8");
    const nl = s.indexOf("\n");
    return nl >= 0 ? s.slice(0, nl) : null;
  } finally {
    await fh.close();
  }
}
