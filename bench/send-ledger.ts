/**
 * Resume start on a big ledger, as its own process: write (`write FILE N
 * DIGEST SECRET`) a ledger of N recipients claimed in groups of 10 and all
 * sent (src/ledger/records.ts), or open it
 * (`open FILE DIGEST SECRET`) as `send` does when it resumes — read, repair
 * a torn tail, fold — and print `{"ms": ..., "cpuMs": ..., "sent": ...}`.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { open as openFile } from "node:fs/promises";
import { FsLedgerStore } from "../src/ledger/fs-store.ts";
import { keyId, Ledger } from "../src/ledger/ledger.ts";

/** Claims of 10, as `send` makes them for 5 connections (batchSize 2 × connections). */
const GROUP = 10;

async function write(file: string, n: number, digest: string, secret: string): Promise<void> {
  const ws = createWriteStream(file);
  const at = "2026-12-01T09:00:00.000Z";
  const begin = { t: "begin", v: 1, id: "2026-12-01-bench", list: "customers", list_rows: n, digest, at, shard: "all", count: n, key_id: keyId(secret) };
  let chunk = `${JSON.stringify(begin)}\n`;
  for (let i = 0; i < n; i += GROUP) {
    const fps: string[] = [];
    for (let k = i; k < Math.min(n, i + GROUP); k++) fps.push(k.toString(16).padStart(32, "0"));
    chunk += `${JSON.stringify({ t: "claim", fps, at })}\n`;
    for (const fp of fps) chunk += `${JSON.stringify({ t: "sent", fp, mid: `${fp}.2026-12-01-bench@corp.example`, at })}\n`;
    if (chunk.length > 1 << 20) {
      if (!ws.write(chunk)) await once(ws, "drain");
      chunk = "";
    }
  }
  ws.end(`${chunk}${JSON.stringify({ t: "end", at, outcome: "completed" })}\n`);
  await once(ws, "finish");
}

async function open(file: string, digest: string, secret: string): Promise<void> {
  // `send` passes the count of recipients it will mail, the begin record's on a resume of the same inputs.
  const count = await beginCount(file);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const ledger = await Ledger.open(
    new FsLedgerStore(file),
    { id: "2026-12-01-bench", list: "customers", listRows: 0, digest, shard: "all", count, secret, now: () => new Date() },
    { readOnly: true },
  );
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  // CPU time too: on a machine shared with other work the wall time mostly measures the neighbours.
  const cpuMs = (c.user + c.system) / 1000;
  process.stdout.write(`${JSON.stringify({ ms, cpuMs, sent: ledger.counts().sent })}\n`);
}

async function beginCount(file: string): Promise<number> {
  const fh = await openFile(file, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(4096), 0, 4096, 0);
    const first = buffer.toString("utf8", 0, bytesRead).split("\n", 1)[0]!;
    return (JSON.parse(first) as { count: number }).count;
  } finally {
    await fh.close();
  }
}

const [mode, file, ...rest] = process.argv.slice(2);
if (mode === "write" && file && rest.length === 3) await write(file, Number(rest[0]), rest[1]!, rest[2]!);
else if (mode === "open" && file && rest.length === 2) await open(file, rest[0]!, rest[1]!);
else {
  process.stderr.write("usage: send-ledger.ts write FILE N DIGEST SECRET | open FILE DIGEST SECRET\n");
  process.exitCode = 2;
}
