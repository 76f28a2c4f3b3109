/**
 * Run a command as a child process and measure its wall time and peak
 * resident set size. With GNU time at /usr/bin/time the child runs under
 * `/usr/bin/time -v -o FILE` and the peak is its "Maximum resident set size";
 * without it (or with BENCH_RSS=wrapper) a TypeScript entry point is run
 * through rss-wrapper.ts, which reports `process.resourceUsage().maxRSS` of
 * the child itself, and a plain `node` command gets the same from a `-r`
 * preload. Wall time is taken by the parent around the whole child; CPU time
 * (user + system) comes from the same report and is the steadier figure on a
 * shared machine, where other processes stretch wall time but not CPU time.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const GNU_TIME = "/usr/bin/time";
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const PROJECT = path.resolve(HERE, "../..");

export type RssMethod = "gnu-time" | "wrapper";

export function rssMethod(env: NodeJS.ProcessEnv = process.env): RssMethod {
  if (env.BENCH_RSS === "wrapper") return "wrapper";
  return existsSync(GNU_TIME) ? "gnu-time" : "wrapper";
}

/** What to run: `node [nodeArgs] [script] [args]`, or `node [nodeArgs] -e code [args]` when `script` is absent. */
export interface NodeCommand {
  nodeArgs?: string[];
  /** A script path (TypeScript entry points need `--import tsx` in nodeArgs). */
  script?: string;
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Measurement {
  wallS: number;
  /** Peak RSS in KiB. */
  maxRssKiB: number;
  /** User + system CPU seconds of the child. */
  cpuS: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` once; `scratch` is a file path this call may create and removes. */
export async function measureNode(cmd: NodeCommand, scratch: string, method: RssMethod = rssMethod()): Promise<Measurement> {
  const node = process.execPath;
  const nodeArgs = cmd.nodeArgs ?? [];
  const tail = [...(cmd.script !== undefined ? [cmd.script] : []), ...(cmd.args ?? [])];
  let file: string;
  let argv: string[];
  if (method === "gnu-time") {
    file = GNU_TIME;
    argv = ["-v", "-o", scratch, node, ...nodeArgs, ...tail];
  } else if (cmd.script !== undefined && cmd.script.endsWith(".ts")) {
    // The wrapper imports the script in its own process and writes its maxRSS on exit.
    file = node;
    argv = [...nodeArgs, path.join(HERE, "rss-wrapper.ts"), scratch, ...tail];
  } else {
    // A plain node command: preload a CommonJS hook that writes maxRSS on exit.
    file = node;
    argv = ["-r", path.join(HERE, "rss-preload.cjs"), ...nodeArgs, ...tail];
  }
  const env = { ...process.env, ...cmd.env, BENCH_RSS_OUT: scratch };
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { cwd: cmd.cwd ?? PROJECT, env, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
  });
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  let report = "";
  try {
    report = readFileSync(scratch, "utf8");
  } catch {
    // the child died before reporting
  } finally {
    rmSync(scratch, { force: true });
  }
  const usage = method === "gnu-time" ? parseGnuTime(report) : parseWrapperReport(report);
  return {
    wallS,
    ...usage,
    code,
    signal,
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
  };
}

/** "Maximum resident set size (kbytes): 333536", "User time (seconds): 2.41", "System time (seconds): 0.52" from `time -v`. */
export function parseGnuTime(report: string): { maxRssKiB: number; cpuS: number } {
  const num = (re: RegExp): number => {
    const m = re.exec(report);
    return m ? Number(m[1]) : Number.NaN;
  };
  return {
    maxRssKiB: num(/Maximum resident set size \(kbytes\):\s*(\d+)/),
    cpuS: num(/User time \(seconds\):\s*([\d.]+)/) + num(/System time \(seconds\):\s*([\d.]+)/),
  };
}

/** `{"maxRSS": KiB, "cpu": µs}` as rss-wrapper.ts and rss-preload.cjs write it. */
export function parseWrapperReport(report: string): { maxRssKiB: number; cpuS: number } {
  try {
    const r = JSON.parse(report) as { maxRSS?: number; cpu?: number };
    return { maxRssKiB: r.maxRSS ?? Number.NaN, cpuS: r.cpu === undefined ? Number.NaN : r.cpu / 1e6 };
  } catch {
    return { maxRssKiB: Number.NaN, cpuS: Number.NaN };
  }
}
