/**
 * Test repositories: a temporary copy of the sample (test/fixtures/sample:
 * config, CODEOWNERS, newsletter, lists) with per-test changes, and a way to
 * run the real CLI in-process with every output stream captured.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { main } from "../../src/cli/main.ts";
import type { Io } from "../../src/runtime/io.ts";
import { PROJECT, SAMPLE_DIR, SAMPLE_FILES, SAMPLE_ID, SAMPLE_ROOT } from "./sample.ts";

export { PROJECT, SAMPLE_DIR, SAMPLE_ID, SAMPLE_ROOT };

/** A file of the sample repository (test/fixtures/sample), never of the live project root. */
export function sampleText(rel: string): string {
  return readFileSync(path.join(SAMPLE_ROOT, rel), "utf8");
}

let emptyCwd: string | undefined;
/** Where a command runs when a test names no folder: an empty one, so nothing live is read by default. */
function defaultCwd(): string {
  emptyCwd ??= mkdtempSync(path.join(tmpdir(), "nl-cwd-"));
  return emptyCwd;
}

/**
 * A fresh copy of the sample repository; `changes` maps paths to new content, or null to delete.
 * `workflows`: also the project's .github/workflows (the tool's own, which `setup` reads).
 */
export function makeRepo(changes: Record<string, string | Uint8Array | null> = {}, opts: { workflows?: boolean } = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), "nl-repo-"));
  for (const f of SAMPLE_FILES) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    cpSync(path.join(SAMPLE_ROOT, f), path.join(root, f));
  }
  if (opts.workflows) cpSync(path.join(PROJECT, ".github/workflows"), path.join(root, ".github/workflows"), { recursive: true });
  for (const [rel, content] of Object.entries(changes)) {
    const abs = path.join(root, rel);
    if (content === null) {
      rmSync(abs, { force: true, recursive: true });
    } else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
  return root;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams (stdout writes of @actions/core included). */
export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; now?: () => Date } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    isTTY: false,
    env: { ...opts.env },
    ...(opts.now ? { now: opts.now } : {}),
  };
  // @actions/core writes annotations straight to process.stdout: capture those too.
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(args, io, opts.cwd ?? defaultCwd());
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = realWrite;
  }
}
