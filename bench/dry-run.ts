/**
 * The `dry-run` suite: `send --dry-run` composes and guards every message
 * with no rate limit (docs/design.md, "Scheduling and continuation"), so the
 * preflight of a 1,000,000-recipient send takes compose time, not relay
 * time. The config says `rate_per_second: 100` (a typical relay limit):
 * held to it, 1,000,000 would take 10,000 s (2.8 h).
 *
 * Cases, the real CLI as a child (the bundle, lib/bundle.ts), in one run:
 *   a. a dry run of 20,000 recipients: the baseline (compose speed at a size where startup weighs);
 *   b. a dry run of --rows recipients (default 1,000,000).
 * The ratio b/a of msg/s says whether the big dry run keeps compose speed.
 * msg/s is recipients / wall time of the whole process (checks included);
 * CPU s and peak RSS from GNU time; medians of --reps runs.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { SAMPLE_DIR } from "./lib/fixture.ts";
import { ensureBundle } from "./lib/bundle.ts";
import { measureNode, type Measurement } from "./lib/measure.ts";
import { fixed, summarise, table } from "./lib/report.ts";
import { benchConfig, SECRET, writeSendRepo } from "./send-fixture.ts";
import type { Suite, SuiteContext, SuiteResult } from "./suite.ts";

const RATE = 100;
const BASELINE_ROWS = 20_000;
const MB = 1e6;

function dryRun(root: string, ctx: SuiteContext): Promise<Measurement> {
  return measureNode(
    {
      nodeArgs: ["--max-old-space-size=256"],
      script: "bin/newsletter.js",
      args: ["--root", root, "send", SAMPLE_DIR, "--dry-run"],
      env: { NEWSLETTER_SECRET: SECRET, NO_COLOR: "1" },
    },
    path.join(ctx.tmp, "rss.out"),
  );
}

async function repo(ctx: SuiteContext, rows: number): Promise<string> {
  const root = path.join(ctx.tmp, `repo-${rows}`);
  await writeSendRepo(root, rows, 5);
  writeFileSync(path.join(root, ".github/newsletter.yml"), benchConfig(5).replace("rate_per_second: 10000", `rate_per_second: ${RATE}`));
  return root;
}

export const dryRunSuite: Suite = {
  name: "dry-run",
  description: `send --dry-run at rate_per_second ${RATE}: 20,000 (baseline) and --rows (default 1,000,000) recipients, composed at full speed`,
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const rows = Number(ctx.options.get("rows") ?? 1_000_000);
    if (!Number.isInteger(rows) || rows < 1) throw new Error("--rows must be a positive integer");
    ctx.log(`${ensureBundle()}; writing the lists…`);
    const cases = [
      { label: `a. dry run, ${BASELINE_ROWS.toLocaleString("en")} recipients`, rows: BASELINE_ROWS, root: await repo(ctx, BASELINE_ROWS), runs: [] as Measurement[] },
      { label: `b. dry run, ${rows.toLocaleString("en")} recipients`, rows, root: await repo(ctx, rows), runs: [] as Measurement[] },
    ];
    let valid = true;
    for (let round = 0; round < ctx.reps; round++) {
      for (const c of cases) {
        const m = await dryRun(c.root, ctx);
        if (m.code !== 0 || !m.stdout.includes(`composed and guarded: ${c.rows}`) || /\bsent \d/.test(m.stderr)) {
          valid = false;
          ctx.log(`!! ${c.label}: exit ${m.code}: ${m.stdout.slice(0, 300)} ${m.stderr.slice(-300)}`);
        }
        c.runs.push(m);
      }
    }
    const stats = cases.map((c) => ({
      c,
      rate: summarise(c.runs.map((m) => c.rows / m.wallS)),
      wall: summarise(c.runs.map((m) => m.wallS)),
      cpu: summarise(c.runs.map((m) => m.cpuS)),
      rss: summarise(c.runs.map((m) => (m.maxRssKiB * 1024) / MB)),
    }));
    ctx.log("");
    ctx.log(`## dry run at rate_per_second ${RATE}, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}`);
    ctx.log("");
    ctx.log(
      table(
        ["case", "msg/s (median)", "wall s", "CPU s", "peak RSS MB", `held to ${RATE}/s it would take`],
        stats.map(({ c, rate, wall, cpu, rss }) => [
          c.label, fixed(rate.median, 0), fixed(wall.median, 1), fixed(cpu.median, 1), fixed(rss.median, 0), `${fixed(c.rows / RATE / 3600, 1)} h`,
        ]),
        "lrrrrr",
      ),
    );
    const [a, b] = stats;
    ctx.log("");
    ctx.log(`b/a (msg/s): ${fixed(b!.rate.median / a!.rate.median, 2)}× — the big dry run at the compose speed of the small one`);
    ctx.log(`b: ${fixed(b!.wall.median / 60, 1)} min instead of ${fixed(rows / RATE / 3600, 1)} h: ${fixed(rows / RATE / b!.wall.median, 0)}× faster than the rate limit would allow`);
    return { valid, goalsMet: b!.rate.median > RATE * 10 };
  },
};
