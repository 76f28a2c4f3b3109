/**
 * HistoryPort over the local state folder: `<state>/ledger/<id>/<shard>.jsonl`,
 * whose first line is the begin record. Only first lines are read, so a
 * million-entry ledger costs nothing here.
 */
import { open, readdir } from "node:fs/promises";
import path from "node:path";
import { DEVELOPMENT_SECRET } from "../keys/secret.ts";
import { isBeginRecord, type BeginRecord, type HistoryPort } from "./history.ts";
import { keyId } from "./ledger.ts";

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
          if (isBeginRecord(rec) && !isTrial(rec)) out.push(rec);
        } catch {
          // A torn first line means the send never began: nothing was recorded.
        }
      }
    }
    return out;
  }
}

/**
 * A ledger in the state folder under the development key was left by a trial
 * made before trials kept their own ledger (an `npm start`): a real send
 * cannot use that key (it is public), so it is not history (docs/design.md,
 * "Sent at most once").
 */
const TRIAL_KEY_ID = keyId(DEVELOPMENT_SECRET);
function isTrial(rec: BeginRecord): boolean {
  return (rec as { key_id?: unknown }).key_id === TRIAL_KEY_ID;
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
