/**
 * Per-message costs of the send path on this process alone, no SMTP:
 * compose (plan.messageFor: fast path) and the guard, in CPU time, over N generated
 * recipients of the bench list. A tool for profiling, not a suite.
 *
 *   npx tsx bench/send-micro.ts [N]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { guardMessage } from "../src/guard/guard.ts";
import { benchPlan, writeSendRepo } from "./send-fixture.ts";

/** CPU milliseconds of the process so far. */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const n = Number(process.argv[2] ?? 20000);
const tmp = mkdtempSync(path.join(tmpdir(), "nl-micro-"));
try {
  const root = path.join(tmp, "repo");
  await writeSendRepo(root, n, 5);
  const { plan, rows } = await benchPlan(root);
  for (let round = 0; round < 3; round++) {
    // Whole-loop timings, not a clock read per message: compose all, then guard all, then both
    // interleaved. Wall time, and CPU time (process.cpuUsage: every thread of the process, GC
    // helpers included), which a machine shared with other work stretches much less.
    const c0 = cpu();
    const t0 = performance.now();
    const outs = rows.map((r) => plan.messageFor(r.address, r.row));
    const t1 = performance.now();
    const c1 = cpu();
    let bytes = 0;
    for (const out of outs) {
      const v = guardMessage(out.raw, out.envelope, out.guard);
      if (!v.ok) throw new Error(`guard refused: ${v.reason} ${v.where}`);
      bytes += out.raw.length;
    }
    const t2 = performance.now();
    const c2 = cpu();
    for (const r of rows) {
      const out = plan.messageFor(r.address, r.row);
      if (!guardMessage(out.raw, out.envelope, out.guard).ok) throw new Error("guard refused");
    }
    const t3 = performance.now();
    const c3 = cpu();
    const per = (ms: number) => ((ms * 1000) / rows.length).toFixed(1);
    process.stdout.write(
      `round ${round + 1}: ${rows.length} messages, ${(bytes / rows.length).toFixed(0)} B avg: compose ${per(t1 - t0)} µs, ` +
        `guard ${per(t2 - t1)} µs, both interleaved ${per(t3 - t2)} µs per message (wall, this thread); ` +
        `CPU: compose ${per(c1 - c0)} µs, guard ${per(c2 - c1)} µs, both ${per(c3 - c2)} µs\n`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
