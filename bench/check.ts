/**
 * The `check` suite: how long `check` takes, and how much memory it
 * needs, as a user runs it — a child process `node --import tsx
 * src/cli/bin.ts --root DIR check newsletters/... --format json`, startup
 * included — on
 *
 *   1. the sample newsletter bound to a generated 1,000,000-row list
 *      (`email,first_name,plan`, reserved domains): goal ≤ 3 s, ≤ 400 MB;
 *   2. the incident: the 13,011-address list and a body listing all of them
 *      (must exit 1 with every address counted);
 *
 * and, measured the same way in the same run, two floors: `node -e` reading
 * the 1M-row file line by line (readline: the raw-read floor the ratio is
 * taken against) and the CLI's startup alone (`--help`: node + tsx + modules).
 * Rounds are interleaved (case 1, 2, floors, then again) after one warm-up
 * round, so load from elsewhere on the machine spreads over all cases; the
 * load average is printed with the table, and CPU time beside wall time.
 * Peak RSS in MB of 10^6 bytes (stricter against the goal than MiB).
 */
import { availableParallelism, loadavg } from "node:os";
import path from "node:path";
import { customer, customers, customersCsv, INCIDENT_SIZE, plainListBody } from "../test/helpers/incident.ts";
import { writeRepo, SAMPLE_DIR } from "./lib/fixture.ts";
import { measureNode, rssMethod, GNU_TIME, type Measurement, type NodeCommand } from "./lib/measure.ts";
import { fixed, summarise, table } from "./lib/report.ts";
import type { Suite, SuiteContext, SuiteResult } from "./suite.ts";

const GOAL_WALL_S = 3;
const GOAL_RSS_MB = 400;
const MB = 1e6;

/** The raw-read floor: count the lines of a file with readline, nothing else. */
const READ_LINES =
  "const rl=require('node:readline').createInterface({input:require('node:fs').createReadStream(process.argv[1],{highWaterMark:1<<20}),crlfDelay:Infinity});" +
  "let n=0;rl.on('line',()=>{n++});rl.on('close',()=>{process.stdout.write(String(n)+'\\n')});";

interface Case {
  label: string;
  cmd: NodeCommand;
  /** Null when the run did what it should; else what went wrong. */
  verify: (m: Measurement) => string | null;
  runs: Measurement[];
}

const CLI: NodeCommand = { nodeArgs: ["--import", "tsx"], script: "src/cli/bin.ts" };

function checkCmd(root: string): NodeCommand {
  return { ...CLI, args: ["--root", root, "check", SAMPLE_DIR, "--format", "json"], env: { NO_COLOR: "1" } };
}

interface CheckJson {
  ok: boolean;
  findings: Array<{ rule: string; message: string }>;
  newsletters: Array<{ recipients: number | null; content_addresses: number | null }>;
}

function parseCheck(m: Measurement): CheckJson | string {
  try {
    return JSON.parse(m.stdout) as CheckJson;
  } catch {
    return `output is not JSON (exit ${m.code}, stderr: ${m.stderr.slice(0, 300)})`;
  }
}

export const checkSuite: Suite = {
  name: "check",
  description: "check on a generated list (--rows, default 1,000,000) and on the 13,011-address incident body: child process, wall time, CPU time, peak RSS",
  async run(ctx: SuiteContext): Promise<SuiteResult> {
    const rows = Number(ctx.options.get("rows") ?? 1_000_000);
    if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer`);
    const rowsText = rows.toLocaleString("en");

    const t0 = performance.now();
    const bigRoot = path.join(ctx.tmp, "big");
    const big = await writeRepo({
      root: bigRoot,
      listHeader: "email,first_name,plan",
      listRows: rows,
      listRow: (i) => {
        const c = customer(i);
        return `${c.email},${c.first_name},${c.plan}`;
      },
    });
    const incidentRoot = path.join(ctx.tmp, "incident");
    const list = customers(INCIDENT_SIZE);
    const csvLines = customersCsv(list).split("\n").filter(Boolean);
    await writeRepo({
      root: incidentRoot,
      listHeader: csvLines[0]!,
      listRows: list.length,
      listRow: (i) => csvLines[i + 1]!,
      body: plainListBody(list).text,
    });
    const bigList = path.join(bigRoot, "recipients/customers.csv");
    ctx.log(
      `generated: ${rowsText}-row list (${fixed(big.listBytes / MB, 1)} MB) and the incident repository in ${fixed((performance.now() - t0) / 1000, 1)} s`,
    );

    const cases: Case[] = [
      {
        label: `check, ${rowsText}-row list`,
        cmd: checkCmd(bigRoot),
        runs: [],
        verify: (m) => {
          const j = parseCheck(m);
          if (typeof j === "string") return j;
          if (m.code !== 0 || !j.ok) return `expected exit 0 and ok, got exit ${m.code}: ${j.findings.map((f) => f.rule).join(", ")}`;
          const n = j.newsletters[0]?.recipients;
          return n === rows ? null : `expected ${rows} recipients, got ${n}`;
        },
      },
      {
        label: `check, incident body (${INCIDENT_SIZE.toLocaleString("en")} addresses)`,
        cmd: checkCmd(incidentRoot),
        runs: [],
        verify: (m) => {
          const j = parseCheck(m);
          if (typeof j === "string") return j;
          if (m.code !== 1 || j.ok) return `expected exit 1, got exit ${m.code}`;
          if (!j.findings.some((f) => f.rule === "leak-list-address")) return "no leak-list-address finding";
          const n = j.newsletters[0]?.content_addresses;
          return n === INCIDENT_SIZE ? null : `expected ${INCIDENT_SIZE} content addresses, got ${n}`;
        },
      },
      {
        label: `floor: node -e readline, ${rowsText}-row list`,
        cmd: { args: ["-e", READ_LINES, bigList] },
        runs: [],
        verify: (m) => (m.code === 0 && m.stdout.trim() === String(rows + 1) ? null : `expected ${rows + 1} lines, got ${m.stdout.trim()} (exit ${m.code})`),
      },
      {
        label: "floor: CLI startup (--help)",
        cmd: { ...CLI, args: ["--help"] },
        runs: [],
        verify: (m) => (m.code === 0 ? null : `exit ${m.code}`),
      },
    ];

    const method = rssMethod();
    ctx.log(
      `measuring: ${ctx.reps} runs per case after 1 warm-up round, interleaved; peak RSS from ${
        method === "gnu-time" ? `${GNU_TIME} -v` : "process.resourceUsage().maxRSS in the child"
      }; Node ${process.version}`,
    );
    const load = (): string => loadavg().map((x) => x.toFixed(2)).join(" ");
    const loadBefore = load();
    let valid = true;
    for (let round = 0; round <= ctx.reps; round++) {
      for (const c of cases) {
        const m = await measureNode(c.cmd, path.join(ctx.tmp, "rss.out"), method);
        const problem = c.verify(m);
        if (problem !== null) {
          valid = false;
          ctx.log(`!! ${c.label}: ${problem}`);
        }
        if (round > 0) c.runs.push(m);
      }
    }

    const rowsOut = cases.map((c) => {
      const wall = summarise(c.runs.map((m) => m.wallS));
      const rss = summarise(c.runs.map((m) => (m.maxRssKiB * 1024) / MB));
      const cpu = summarise(c.runs.map((m) => m.cpuS));
      return { c, wall, rss, cpu };
    });
    ctx.log("");
    ctx.log(
      table(
        ["case", "wall s (median)", "min", "max", "cpu s (median)", "peak RSS MB (median)", "exit"],
        rowsOut.map(({ c, wall, rss, cpu }) => [
          c.label,
          fixed(wall.median, 2),
          fixed(wall.min, 2),
          fixed(wall.max, 2),
          fixed(cpu.median, 2),
          fixed(rss.median, 0),
          [...new Set(c.runs.map((m) => String(m.code)))].join("/"),
        ]),
        "lrrrrrr",
      ),
    );
    const [bigCase, , floor, startup] = rowsOut;
    ctx.log("");
    ctx.log(
      `load average before ${loadBefore}, after ${load()} on ${availableParallelism()} CPUs ` +
        "(wall time stretches when other work shares the machine; CPU time much less)",
    );
    ctx.log(`ratio check / raw-read floor (${rowsText} rows): ${fixed(bigCase!.wall.median / floor!.wall.median, 1)}×`);
    ctx.log(
      `of which CLI startup (node + tsx + modules, no work): ${fixed(startup!.wall.median, 2)} s; ` +
        `the check's own work: ~${fixed(bigCase!.wall.median - startup!.wall.median, 2)} s`,
    );
    const wallMet = bigCase!.wall.median <= GOAL_WALL_S;
    const rssMet = bigCase!.rss.median <= GOAL_RSS_MB;
    ctx.log(`goal: ${rowsText}-row check ≤ ${GOAL_WALL_S} s wall: ${wallMet ? "MET" : "NOT MET"} (median ${fixed(bigCase!.wall.median, 2)} s)`);
    ctx.log(`goal: ${rowsText}-row check ≤ ${GOAL_RSS_MB} MB peak RSS: ${rssMet ? "MET" : "NOT MET"} (median ${fixed(bigCase!.rss.median, 0)} MB)`);
    if (!valid) ctx.log("!! some runs misbehaved (see above): the figures are not valid");
    return { valid, goalsMet: wallMet && rssMet };
  },
};
