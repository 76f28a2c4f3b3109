/**
 * Where the send's time goes: case b of the send suite (bench/send.ts) once
 * under `node --cpu-prof`, and the profile's self time summed per bucket
 * (our modules by folder, nodemailer, Node's own net/stream/tls, GC, idle).
 *
 *   npx tsx bench/send-profile.ts [--rows N] [--connections N] [--keep DIR]
 *
 * Starts the same sink (send-sink.ts) and stops it; prints a table of
 * buckets with their share of all samples, then the 25 costliest functions,
 * per thread (the compose thread, on by default for 5,000+ recipients on
 * 2+ cores, writes a profile of its own).
 *
 * It runs the TypeScript sources through tsx, not the bundle the bench
 * times: only then does each sample carry its module's path for the
 * per-folder buckets. Startup therefore shows tsx's loader, which the
 * bundle does not pay.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { SAMPLE_DIR } from "./lib/fixture.ts";
import { measureNode } from "./lib/measure.ts";
import { writeSendRepo, SECRET } from "./send-fixture.ts";
import { startSink } from "./send-sink.ts";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export function bucketOf(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "(program)";
  const m = /\/src\/([a-z-]+)\//.exec(url);
  if (m && !url.includes("node_modules")) return `src/${m[1]}`;
  if (url.includes("/bench/")) return "bench";
  if (url.includes("node_modules/nodemailer")) return "nodemailer";
  if (url.includes("node_modules/tsx") || url.includes("node_modules/esbuild") || url.includes("node_modules/get-tsconfig")) return "tsx loader";
  if (url.includes("node_modules/")) return `npm ${/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? "?"}`;
  if (url.startsWith("node:")) {
    const mod = url.slice(5);
    if (/^(net|stream|internal\/streams|internal\/stream_base_commons|_stream|internal\/net)/.test(mod)) return "node net/stream";
    if (/tls|crypto/.test(mod)) return "node tls/crypto";
    if (/fs/.test(mod)) return "node fs";
    if (/modules|vm|loader/.test(mod)) return "node module loading";
    return "node other";
  }
  if (url === "") return fn ? `native ${fn.replace(/\s.*$/, "")}`.slice(0, 40) : "(native)";
  return "other";
}

export function summariseProfile(p: Profile): { buckets: Array<[string, number]>; top: Array<[string, number]>; totalMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + dt);
    total += dt;
  }
  const buckets = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    const b = bucketOf(n.callFrame.url, n.callFrame.functionName);
    buckets.set(b, (buckets.get(b) ?? 0) + t);
    const key = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(src|bench|node_modules)\//, "$1/")}:${n.callFrame.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  const sort = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, (100 * v) / total] as [string, number]);
  return { buckets: sort(buckets), top: sort(fns).slice(0, 25), totalMs: total / 1000 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, d: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : d;
  };
  const rows = Number(opt("rows", "20000"));
  const connections = Number(opt("connections", "5"));
  const keep = opt("keep", "");
  const tmp = keep || mkdtempSync(path.join(tmpdir(), "nl-profile-"));
  const root = path.join(tmp, "repo");
  await writeSendRepo(root, rows, connections);
  const profDir = path.join(tmp, "prof");
  const sink = await startSink();
  try {
    const m = await measureNode(
      {
        nodeArgs: ["--cpu-prof", "--cpu-prof-dir", profDir, "--import", "tsx"],
        script: "src/cli/bin.ts",
        args: ["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"],
        env: { NEWSLETTER_SMTP_URL: `smtp://127.0.0.1:${sink.port}`, NEWSLETTER_SECRET: SECRET, NO_COLOR: "1" },
      },
      path.join(tmp, "rss.out"),
    );
    if (m.code !== 0) throw new Error(`send exited ${m.code}: ${m.stderr.slice(-500)}`);
    process.stdout.write(`send of ${rows} recipients: ${(rows / m.wallS).toFixed(0)} msg/s, wall ${m.wallS.toFixed(2)} s, CPU ${m.cpuS.toFixed(2)} s\n`);
    const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
    for (const f of files) {
      const s = summariseProfile(JSON.parse(readFileSync(path.join(profDir, f), "utf8")) as Profile);
      process.stdout.write(`\n${f}: ${s.totalMs.toFixed(0)} ms sampled\n\nself time by bucket:\n`);
      for (const [b, pct] of s.buckets) if (pct >= 0.3) process.stdout.write(`  ${pct.toFixed(1).padStart(5)} %  ${b}\n`);
      process.stdout.write("\ncostliest functions (self):\n");
      for (const [fn, pct] of s.top) process.stdout.write(`  ${pct.toFixed(1).padStart(5)} %  ${fn}\n`);
    }
  } finally {
    await sink.stop();
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
