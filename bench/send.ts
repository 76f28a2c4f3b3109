/**
 * The `send` suite: the full safe pipeline against bare nodemailer
 * on the same pool, side by side in one run, into the same loopback sink.
 *
 * On one generated list (--rows, default 20,000; `email,first_name,plan`,
 * reserved domains, about two in three names Japanese) and a ~5 KB message:
 *
 *   a. bare nodemailer `sendMail`, pooled, the same connection count
 *      (send-bare.ts, its own process): the baseline;
 *   b. our `send`, end to end: the real CLI as a child process (`node
 *      bin/newsletter.js send`, the bundle, lib/bundle.ts), checks, guard on every message's
 *      bytes, ledger with durable claims, NEWSLETTER_SMTP_URL to the sink,
 *      a fresh ledger each run;
 *   c. Postfix `smtp-source -d -s CONNECTIONS` with one of our messages:
 *      the raw SMTP ceiling (when installed).
 *
 * The sink is Postfix `smtp-sink` when installed, else smtp-server
 * (send-sink.ts); nothing is installed at run time. msg/s is recipients /
 * wall time of the whole process (startup and, for b, the checks
 * included); CPU s (user + system) and peak RSS come from GNU time. Rounds
 * are interleaved (a, b, c, then again) after one warm-up run of b, so load
 * from elsewhere spreads over all cases; medians of --reps runs.
 *
 * Also measured (once): resume start on a 1,000,000-entry ledger (write it,
 * then `Ledger.open` in a child: goal ≤ 2 s), and with --million a real
 * 1,000,000-recipient send into the sink for peak RSS (goal ≤ 400 MB).
 * Every process started here is stopped before the suite returns.
 */
import { writeFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import path from "node:path";
import type { BareTemplate } from "./send-bare.ts";
import { SAMPLE_DIR } from "./lib/fixture.ts";
import { bundleScript, ensureBundle } from "./lib/bundle.ts";
import { measureNode, type Measurement } from "./lib/measure.ts";
import { fixed, summarise, table } from "./lib/report.ts";
import { measureCommand } from "./send-proc.ts";
import { writeSendRepo, messageSample, bareTemplate, SECRET } from "./send-fixture.ts";
import { postfixTool, startSink, type Sink } from "./send-sink.ts";
import type { Suite, SuiteContext, SuiteResult } from "./suite.ts";

const GOAL_RATIO = 3;
const GOAL_RSS_MB = 400;
const GOAL_RESUME_S = 2;
const MB = 1e6;

interface Case {
  label: string;
  run: () => Promise<Measurement>;
  verify: (m: Measurement) => string | null;
  runs: Measurement[];
}

/** `sent 20000  failed 0 ... 2345 msg/s` — the CLI's last progress line: the rate of the sending loop alone. */
function loopRate(stderr: string): number {
  const all = [...stderr.matchAll(/(\d+) msg\/s/g)];
  return all.length > 0 ? Number(all[all.length - 1]![1]) : Number.NaN;
}

/** The heap cap README.md recommends for big sends (V8's default lets the old generation grow far past what is live). */
const BIG_SEND_NODE_ARGS = ["--max-old-space-size=256"];

function cliSend(root: string, port: number, nodeArgs: string[] = []): Promise<Measurement> {
  rmSync(path.join(root, ".newsletter-state"), { recursive: true, force: true });
  return measureNode(
    {
      nodeArgs,
      script: "bin/newsletter.js",
      args: ["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"],
      env: { NEWSLETTER_SMTP_URL: `smtp://127.0.0.1:${port}`, NEWSLETTER_SECRET: SECRET, NO_COLOR: "1" },
    },
    path.join(root, "..", "rss.out"),
  );
}

export const sendSuite: Suite = {
  name: "send",
  description:
    "send end to end (checks, guard, ledger) vs bare nodemailer vs smtp-source into one loopback sink (--rows, default 20,000; --connections; --million)",
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const rows = Number(ctx.options.get("rows") ?? 20_000);
    const connections = Number(ctx.options.get("connections") ?? 5);
    const million = ctx.options.has("million");
    if (!Number.isInteger(rows) || rows < 1) throw new Error("--rows must be a positive integer");
    if (!Number.isInteger(connections) || connections < 1 || connections > 50) throw new Error("--connections must be 1–50");
    const rowsText = rows.toLocaleString("en");

    const root = path.join(ctx.tmp, "repo");
    await writeSendRepo(root, rows, connections);
    const listFile = path.join(root, "recipients/customers.csv");
    const sample = await messageSample(root);
    const sampleFile = path.join(ctx.tmp, "message.eml");
    // smtp-source -F reads lines and ends each with CRLF itself.
    writeFileSync(sampleFile, sample.raw.toString("latin1").replace(/\r\n/g, "\n"));
    const templateFile = path.join(ctx.tmp, "bare.json");
    const template: BareTemplate = bareTemplate(root);
    writeFileSync(templateFile, JSON.stringify(template));

    const built = ensureBundle();
    const bareScript = await bundleScript("bench/send-bare.ts", ctx.tmp);
    const sink: Sink = await startSink();
    const source = postfixTool("smtp-source");
    let valid = true;
    try {
      ctx.log(
        `list: ${rowsText} recipients; our message ${sample.raw.length.toLocaleString("en")} bytes (multipart text + HTML, quoted-printable); ` +
          `${connections} connections; sink: ${sink.kind} on 127.0.0.1:${sink.port}; ceiling: ${source ?? "smtp-source not installed"}; ` +
          `${built}; a runs send-bare.ts bundled likewise`,
      );
      const cases: Case[] = [
        {
          label: "a. bare nodemailer sendMail (pooled)",
          runs: [],
          run: () =>
            measureNode(
              { script: bareScript, args: [String(sink.port), String(connections), listFile, templateFile] },
              path.join(ctx.tmp, "rss.out"),
            ),
          verify: (m) => (m.code === 0 && m.stdout.trim() === `sent ${rows}` ? null : `exit ${m.code}: ${m.stdout.trim()} ${m.stderr.slice(0, 300)}`),
        },
        {
          label: "b. our send (checks, guard, ledger)",
          runs: [],
          run: () => cliSend(root, sink.port),
          verify: (m) =>
            m.code === 0 && m.stdout.includes(`sent now: ${rows}`) ? null : `exit ${m.code}: ${m.stdout.slice(0, 300)} ${m.stderr.slice(-300)}`,
        },
      ];
      if (source) {
        cases.push({
          label: "c. smtp-source (raw SMTP ceiling)",
          runs: [],
          run: () =>
            measureCommand(
              {
                file: source,
                args: ["-s", String(connections), "-d", "-m", String(rows), "-F", sampleFile, "-f", "news@corp.example", "-t", "bench@example.com", `127.0.0.1:${sink.port}`],
              },
              path.join(ctx.tmp, "rss.out"),
            ),
          verify: (m) => (m.code === 0 ? null : `exit ${m.code}: ${m.stderr.slice(0, 300)}`),
        });
      }

      const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");
      const loadBefore = load();
      ctx.log(`measuring: ${ctx.reps} runs per case after a warm-up run of b, interleaved; Node ${process.version}`);
      const warm = await cliSend(root, sink.port);
      if (cases[1]!.verify(warm) !== null) {
        valid = false;
        ctx.log(`!! warm-up of b: ${cases[1]!.verify(warm)}`);
      }
      for (let round = 0; round < ctx.reps; round++) {
        for (const c of cases) {
          const m = await c.run();
          const problem = c.verify(m);
          if (problem !== null) {
            valid = false;
            ctx.log(`!! ${c.label}: ${problem}`);
          }
          c.runs.push(m);
        }
      }

      const stats = cases.map((c) => ({
        c,
        rate: summarise(c.runs.map((m) => rows / m.wallS)),
        wall: summarise(c.runs.map((m) => m.wallS)),
        cpu: summarise(c.runs.map((m) => m.cpuS)),
        rss: summarise(c.runs.map((m) => (m.maxRssKiB * 1024) / MB)),
      }));
      ctx.log("");
      ctx.log(`## send: ${rowsText} recipients, ${connections} connections, ${new Date().toISOString().slice(0, 10)}, ${machine()}`);
      ctx.log("");
      ctx.log(
        table(
          ["case", "msg/s (median)", "min", "max", "wall s", "CPU s", "CPU ms/msg", "peak RSS MB", "exit"],
          stats.map(({ c, rate, wall, cpu, rss }) => [
            c.label,
            fixed(rate.median, 0),
            fixed(rate.min, 0),
            fixed(rate.max, 0),
            fixed(wall.median, 2),
            fixed(cpu.median, 2),
            fixed((cpu.median * 1000) / rows, 3),
            fixed(rss.median, 0),
            [...new Set(c.runs.map((m) => String(m.code)))].join("/"),
          ]),
          "lrrrrrrrr",
        ),
      );
      ctx.log("");
      const [a, b, c] = stats;
      const ratioBA = b!.rate.median / a!.rate.median;
      ctx.log(`b/a (msg/s): ${fixed(ratioBA, 2)}×   CPU per message a/b: ${fixed(a!.cpu.median / b!.cpu.median, 2)}×`);
      // Each round's a and b ran back to back, under much the same outside load: their ratio
      // drifts less than the ratio of medians taken over the whole run.
      const paired = a!.c.runs.map((ma, i) => ma.wallS / b!.c.runs[i]!.wallS);
      ctx.log(`b/a per round (a and b back to back): ${paired.map((r) => fixed(r, 2)).join(", ")}; median ${fixed(summarise(paired).median, 2)}×, lowest ${fixed(Math.min(...paired), 2)}×`);
      if (c) ctx.log(`b/c (msg/s): ${fixed(b!.rate.median / c.rate.median, 2)}× of the raw SMTP ceiling`);
      const loops = summarise(b!.c.runs.map((m) => loopRate(m.stderr)));
      ctx.log(`b's sending loop alone (its last progress line; startup and checks excluded): ${fixed(loops.median, 0)} msg/s median`);
      ctx.log(`load average before ${loadBefore}, after ${load()} on ${availableParallelism()} CPUs (wall time stretches under other load; CPU time much less)`);
      const ratioMet = ratioBA >= GOAL_RATIO;
      ctx.log(`goal: b ≥ ${GOAL_RATIO}× a: ${ratioMet ? "MET" : "NOT MET"} (${fixed(ratioBA, 2)}×)`);

      const resume = await resumeStart(ctx);
      valid &&= resume.valid;
      const resumeMet = resume.seconds <= GOAL_RESUME_S;
      ctx.log(`goal: resume start on a 1,000,000-entry ledger ≤ ${GOAL_RESUME_S} s: ${resumeMet ? "MET" : "NOT MET"} (median ${fixed(resume.seconds, 2)} s, peak RSS ${fixed(resume.rssMb, 0)} MB)`);

      let rssMet = true;
      if (million) {
        const big = await millionSend(ctx, sink, connections);
        valid &&= big.valid;
        rssMet = big.rssMb <= GOAL_RSS_MB;
        ctx.log(`goal: 1,000,000-recipient send ≤ ${GOAL_RSS_MB} MB peak RSS: ${rssMet ? "MET" : "NOT MET"} (${fixed(big.rssMb, 0)} MB, ${fixed(big.rate, 0)} msg/s, CPU ${fixed(big.cpuS, 1)} s)`);
      } else {
        ctx.log("(1,000,000-recipient RSS: run with --million)");
      }
      if (!valid) ctx.log("!! some runs misbehaved (see above): the figures are not valid");
      return { valid, goalsMet: ratioMet && resumeMet && rssMet };
    } finally {
      await sink.stop();
    }
  },
};

function machine(): string {
  const model = cpus()[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  return `${availableParallelism()} CPUs (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
}

/** Write a 1,000,000-entry ledger, then time `Ledger.open` on it in a child process (median of 3). */
async function resumeStart(ctx: SuiteContext): Promise<{ valid: boolean; seconds: number; rssMb: number }> {
  const file = path.join(ctx.tmp, "ledger-1m.jsonl");
  const digest = "d".repeat(64);
  const script = { nodeArgs: ["--import", "tsx"], script: "bench/send-ledger.ts" };
  const w = await measureNode({ ...script, args: ["write", file, "1000000", digest, SECRET] }, path.join(ctx.tmp, "rss.out"));
  if (w.code !== 0) {
    ctx.log(`!! writing the 1,000,000-entry ledger failed: ${w.stderr.slice(0, 300)}`);
    return { valid: false, seconds: Number.NaN, rssMb: Number.NaN };
  }
  const ms: number[] = [];
  const rss: number[] = [];
  let valid = true;
  for (let i = 0; i < 3; i++) {
    const m = await measureNode({ ...script, args: ["open", file, digest, SECRET] }, path.join(ctx.tmp, "rss.out"));
    try {
      const r = JSON.parse(m.stdout) as { ms: number; sent: number };
      if (r.sent !== 1_000_000) throw new Error(`sent ${r.sent}`);
      ms.push(r.ms);
      rss.push((m.maxRssKiB * 1024) / MB);
    } catch (e) {
      valid = false;
      ctx.log(`!! Ledger.open on 1,000,000 entries: ${(e as Error).message} ${m.stderr.slice(0, 300)}`);
    }
  }
  rmSync(file, { force: true });
  return { valid, seconds: summarise(ms).median / 1000, rssMb: summarise(rss).median };
}

/** One real 1,000,000-recipient send into the sink, for peak RSS. */
async function millionSend(ctx: SuiteContext, sink: Sink, connections: number): Promise<{ valid: boolean; rssMb: number; rate: number; cpuS: number }> {
  const rows = 1_000_000;
  const root = path.join(ctx.tmp, "million");
  const t0 = performance.now();
  await writeSendRepo(root, rows, connections);
  ctx.log(`million: list written in ${fixed((performance.now() - t0) / 1000, 1)} s; sending with node ${BIG_SEND_NODE_ARGS.join(" ")}…`);
  const m = await cliSend(root, sink.port, BIG_SEND_NODE_ARGS);
  const ok = m.code === 0 && m.stdout.includes(`sent now: ${rows}`);
  if (!ok) ctx.log(`!! 1,000,000-recipient send: exit ${m.code}: ${m.stdout.slice(0, 300)} ${m.stderr.slice(-300)}`);
  rmSync(root, { recursive: true, force: true });
  return { valid: ok, rssMb: (m.maxRssKiB * 1024) / MB, rate: rows / m.wallS, cpuS: m.cpuS };
}

