/**
 * A/B of case b (bench/send.ts, the bundle) under different environments,
 * interleaved, medians: for trying a change under a noisy, shared machine.
 *
 *   npx tsx bench/send-ab.ts [--rows N] [--reps N] NAME=VAR=value,VAR=value ...
 *   e.g. npx tsx bench/send-ab.ts base= threads=NEWSLETTER_COMPOSE_THREADS=1
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SAMPLE_DIR } from "./lib/fixture.ts";
import { ensureBundle } from "./lib/bundle.ts";
import { measureNode } from "./lib/measure.ts";
import { summarise } from "./lib/report.ts";
import { writeSendRepo, SECRET } from "./send-fixture.ts";
import { startSink } from "./send-sink.ts";

const args = process.argv.slice(2);
let rows = 20000;
let reps = 3;
const variants: Array<{ name: string; env: Record<string, string> }> = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--rows") rows = Number(args[++i]);
  else if (args[i] === "--reps") reps = Number(args[++i]);
  else {
    const [name, rest = ""] = args[i]!.split(/=(.*)/s, 2) as [string, string?];
    const env: Record<string, string> = {};
    for (const kv of rest.split(",").filter(Boolean)) {
      const [k, v = ""] = kv.split(/=(.*)/s, 2) as [string, string?];
      env[k] = v;
    }
    variants.push({ name, env });
  }
}
process.stdout.write(`${ensureBundle()}\n`);
const tmp = mkdtempSync(path.join(tmpdir(), "nl-ab-"));
const sink = await startSink();
try {
  const root = path.join(tmp, "repo");
  await writeSendRepo(root, rows, 5);
  const results = new Map<string, Array<{ wall: number; cpu: number }>>();
  for (let r = 0; r < reps; r++) {
    for (const v of variants) {
      rmSync(path.join(root, ".newsletter-state"), { recursive: true, force: true });
      const m = await measureNode(
        { script: "bin/newsletter.js", args: ["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], env: { NEWSLETTER_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, NEWSLETTER_SECRET: SECRET, NO_COLOR: "1", ...v.env } },
        path.join(tmp, "rss.out"),
      );
      if (m.code !== 0) throw new Error(`${v.name}: exit ${m.code} ${m.stderr.slice(-300)}`);
      const list = results.get(v.name) ?? [];
      list.push({ wall: m.wallS, cpu: m.cpuS });
      results.set(v.name, list);
    }
  }
  for (const [name, list] of results) {
    const wall = summarise(list.map((x) => x.wall)).median;
    const cpu = summarise(list.map((x) => x.cpu)).median;
    process.stdout.write(`${name.padEnd(12)} ${(rows / wall).toFixed(0).padStart(6)} msg/s  wall ${wall.toFixed(2)} s  CPU ${cpu.toFixed(2)} s  (${list.map((x) => (rows / x.wall).toFixed(0)).join(", ")})\n`);
  }
} finally {
  await sink.stop();
  rmSync(tmp, { recursive: true, force: true });
}
