/**
 * Measures any command (not only node: smtp-source too) the way
 * lib/measure.ts measures node ones: wall time by the parent, and peak RSS
 * plus CPU time (user + system) from `/usr/bin/time -v` when it is
 * installed. Without GNU time, node commands fall back to measureNode's
 * wrapper and other commands report n/a for RSS and CPU.
 */
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { GNU_TIME, parseGnuTime, PROJECT, rssMethod, type Measurement } from "./lib/measure.ts";

export interface Command {
  file: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs `cmd` once under GNU time when present; `scratch` is a file path this call may create and removes. */
export async function measureCommand(cmd: Command, scratch: string): Promise<Measurement> {
  const timed = rssMethod() === "gnu-time";
  const file = timed ? GNU_TIME : cmd.file;
  const argv = timed ? ["-v", "-o", scratch, cmd.file, ...cmd.args] : cmd.args;
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { cwd: cmd.cwd ?? PROJECT, env: { ...process.env, ...cmd.env }, stdio: ["ignore", "pipe", "pipe"] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (c, s) => resolve({ code: c, signal: s }));
  });
  const wallS = Number(process.hrtime.bigint() - started) / 1e9;
  let usage = { maxRssKiB: Number.NaN, cpuS: Number.NaN };
  if (timed) {
    try {
      usage = parseGnuTime(readFileSync(scratch, "utf8"));
    } catch {
      // the child died before time could report
    } finally {
      rmSync(scratch, { force: true });
    }
  }
  return { wallS, ...usage, code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
