/**
 * Per-message costs of the send path on this process alone, no SMTP:
 * compose (plan.messageFor: fast path) and the guard, in CPU time, over N generated
 * recipients of the bench list. A tool for profiling, not a suite.
 *
 *   npx tsx bench/send-micro.ts [N]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { customer } from "../test/helpers/incident.ts";
import { FsHistory } from "../src/ledger/fs-history.ts";
import { FsRepo } from "../src/load/fs-repo.ts";
import { guardMessage } from "../src/guard/guard.ts";
import { makePlan } from "../src/send/plan.ts";
import { prepareNewsletter } from "../src/send/prepare.ts";
import { listRows } from "../src/send/recipients.ts";
import { SAMPLE_DIR, writeRepo } from "./lib/fixture.ts";
import { benchBody, benchConfig, SECRET } from "./send-fixture.ts";

/** Thread CPU time in ms (user + system). */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const n = Number(process.argv[2] ?? 20000);
const tmp = mkdtempSync(path.join(tmpdir(), "nl-micro-"));
try {
  const root = path.join(tmp, "repo");
  await writeRepo({
    root,
    listHeader: "email,first_name,plan",
    listRows: n,
    listRow: (i) => {
      const c = customer(i);
      return `${c.email},${c.first_name},${c.plan}`;
    },
    body: benchBody(),
  });
  writeFileSync(path.join(root, ".github/newsletter.yml"), benchConfig(5));
  const prepared = await prepareNewsletter({ repo: new FsRepo(root), history: new FsHistory(path.join(root, ".newsletter-state")) }, SAMPLE_DIR);
  const c = prepared.checked;
  const plan = makePlan({ id: c.id, config: c.config, meta: c.meta, body: c.body, digest: c.digest, secret: SECRET, date: new Date() });
  const rows = [...listRows(prepared.listBytes, c.list.file, new Set())];
  for (let round = 0; round < 3; round++) {
    let tc = 0;
    let tg = 0;
    let bytes = 0;
    for (const r of rows) {
      // CPU time, not wall time: the machine is shared.
      const t0 = cpu();
      const out = plan.messageFor(r.address, r.row);
      const t1 = cpu();
      const v = guardMessage(out.raw, out.envelope, out.guard);
      const t2 = cpu();
      if (!v.ok) throw new Error(`guard refused: ${v.reason} ${v.where}`);
      tc += t1 - t0;
      tg += t2 - t1;
      bytes += out.raw.length;
    }
    process.stdout.write(
      `round ${round + 1}: ${rows.length} messages, ${(bytes / rows.length).toFixed(0)} B avg: compose ${((tc * 1000) / rows.length).toFixed(1)} µs, guard ${((tg * 1000) / rows.length).toFixed(1)} µs per message\n`,
    );
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
