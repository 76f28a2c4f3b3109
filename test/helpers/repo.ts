/**
 * Test repositories: a temporary copy of the sample (config, newsletter,
 * lists) with per-test changes, and a way to run the real CLI in-process
 * with every output stream captured.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.ts";
import type { Io } from "../../src/cli/io.ts";

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SAMPLE_ID = "2026-12-01-winter-update";
export const SAMPLE_DIR = `newsletters/${SAMPLE_ID}`;

const SAMPLE_FILES = [
  ".github/newsletter.yml",
  `${SAMPLE_DIR}/newsletter.yml`,
  `${SAMPLE_DIR}/body.md`,
  "recipients/customers.csv",
  "recipients/suppressions.csv",
];

export function sampleText(rel: string): string {
  return readFileSync(path.join(PROJECT, rel), "utf8");
}

/** A fresh copy of the sample repository; `changes` maps paths to new content, or null to delete. */
export function makeRepo(changes: Record<string, string | Uint8Array | null> = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), "nl-repo-"));
  for (const f of SAMPLE_FILES) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    cpSync(path.join(PROJECT, f), path.join(root, f));
  }
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
export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    isTTY: false,
    env: { ...opts.env },
  };
  // @actions/core writes annotations straight to process.stdout: capture those too.
  const realWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await main(args, io, opts.cwd ?? PROJECT);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = realWrite;
  }
}
