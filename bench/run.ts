/**
 * `npm run bench [-- SUITE... ] [--reps N] [--keep] [--strict] [--rows N] [--connections N] [--million]`
 *
 * Runs the benchmark suites (all when none is named) one after another, each
 * in its own temporary folder, and prints their tables. Suites register in
 * SUITES below: `check` and `send`.
 *
 *   --reps N    measured runs per case (default 5; the table shows medians)
 *   --keep      keep the generated repositories and print where they are
 *   --strict    exit 1 when a goal is missed (default: only when a run misbehaves)
 *   --list      list the suites
 *   other --name value pairs go to the suites (check: --rows N; send: --rows N,
 *               --connections N, --million for the 1,000,000-recipient RSS run)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Suite } from "./suite.ts";

const SUITES: Record<string, () => Promise<Suite>> = {
  check: async () => (await import("./check.ts")).checkSuite,
  send: async () => (await import("./send.ts")).sendSuite,
  "dry-run": async () => (await import("./dry-run.ts")).dryRunSuite,
};

interface Args {
  suites: string[];
  reps: number;
  keep: boolean;
  strict: boolean;
  list: boolean;
  options: Map<string, string>;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { suites: [], reps: 5, keep: false, strict: false, list: false, options: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const s = argv[i]!;
    if (s === "--keep") a.keep = true;
    else if (s === "--strict") a.strict = true;
    else if (s === "--list" || s === "--help" || s === "-h") a.list = true;
    else if (s.startsWith("--")) {
      const [name, inline] = s.slice(2).split("=", 2) as [string, string | undefined];
      // A suite's flag without a value (`--million`) is "true".
      const value = inline ?? (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--") ? "true" : argv[++i]!);
      if (name === "reps" && value === "true") throw new Error(`--reps needs a value`);
      if (name === "reps") {
        a.reps = Number(value);
        if (!Number.isInteger(a.reps) || a.reps < 1) throw new Error(`--reps must be a positive integer, not ${value}`);
      } else a.options.set(name, value);
    } else a.suites.push(s);
  }
  return a;
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const names = args.suites.length > 0 ? args.suites : Object.keys(SUITES);
  const unknown = names.filter((n) => !(n in SUITES));
  if (args.list || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`bench: unknown suite ${unknown.join(", ")}\n`);
    process.stdout.write("usage: npm run bench [-- SUITE...] [--reps N] [--keep] [--strict] [--rows N]\nsuites:\n");
    for (const [name, load] of Object.entries(SUITES)) process.stdout.write(`  ${name.padEnd(8)} ${(await load()).description}\n`);
    return unknown.length > 0 ? 2 : 0;
  }

  let valid = true;
  let goalsMet = true;
  for (const name of names) {
    const suite = await SUITES[name]!();
    const tmp = mkdtempSync(path.join(tmpdir(), `nl-bench-${name}-`));
    const cleanup = () => rmSync(tmp, { recursive: true, force: true });
    const onSignal = (sig: NodeJS.Signals) => {
      if (!args.keep) cleanup();
      process.exit(sig === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      process.stdout.write(`\n# ${suite.name}: ${suite.description}\n\n`);
      const r = await suite.run({ tmp, reps: args.reps, options: args.options, log: (l) => process.stdout.write(`${l}\n`) });
      valid &&= r.valid;
      goalsMet &&= r.goalsMet;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (args.keep) process.stdout.write(`(kept ${tmp})\n`);
      else cleanup();
    }
  }
  if (!valid) return 1;
  return args.strict && !goalsMet ? 1 : 0;
}

process.exitCode = await main();
