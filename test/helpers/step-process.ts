/**
 * Runs an Actions step (`npm run -s step -- <name>`) in the test's process
 * as its own process would run: @actions/core (src/actions/runner.ts) reads
 * GITHUB_OUTPUT and GITHUB_STEP_SUMMARY from process.env and writes workflow
 * commands to process.stdout, so for the call those two variables come from
 * the step's environment and process.stdout is captured together with the
 * step's own writes, in order. core.summary remembers the first summary file
 * it wrote to, process-wide: that is forgotten before and after each run, as
 * a fresh process would. Steps must not run concurrently in one test file.
 */
import * as core from "@actions/core";
import { runStep } from "../../src/actions/main.ts";
import type { Io } from "../../src/runtime/io.ts";

export interface StepRun {
  code: number;
  stdout: string;
  stderr: string;
}

const RUNNER_FILES = ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"] as const;

function forgetSummaryFile(): void {
  (core.summary as unknown as { _filePath?: string })._filePath = undefined;
  core.summary.emptyBuffer();
}

/** `fn` with the step's Io, the runner's files of `env` in process.env, and stdout captured. */
export async function asStepProcess(env: Record<string, string | undefined>, fn: (io: Io) => Promise<number>): Promise<StepRun> {
  let stdout = "";
  let stderr = "";
  const io: Io = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), isTTY: false, env: { ...env } };
  const saved = RUNNER_FILES.map((k) => [k, process.env[k]] as const);
  const realWrite = process.stdout.write.bind(process.stdout);
  for (const k of RUNNER_FILES) {
    if (env[k] === undefined) delete process.env[k];
    else process.env[k] = env[k];
  }
  forgetSummaryFile();
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await fn(io);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = realWrite;
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    forgetSummaryFile();
  }
}

/** `npm run -s step -- <argv>` with `env` as its environment, in `cwd`. */
export function runStepInProcess(argv: string[], env: Record<string, string | undefined>, cwd: string): Promise<StepRun> {
  return asStepProcess(env, (io) => runStep(argv, io, cwd));
}
