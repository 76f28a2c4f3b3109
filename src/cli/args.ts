/**
 * Reads the command line once into a typed object (docs/design.md, "Layers"; the commands: README.md).
 * Everything after this works on `CliInput`, never on argv.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { UsageError } from "../errors.ts";

import { FORMATS, type Format as FormatName } from "../report/index.ts";

export type CliInput =
  | { command: "check"; root: string; dirs: string[]; format: FormatName; sarifOut?: string; manifestOut?: string }
  | { command: "manifest"; root: string; dir: string }
  | {
      command: "send";
      root: string;
      dir: string;
      dryRun: boolean;
      shard: { index: number; count: number } | null;
      resendInDoubt: boolean;
      /** `--resend-in-doubt=FILE`: Message-IDs the relay confirms delivered (those are not resent). */
      deliveredFile?: string;
      /** `--time-budget SECONDS`: stop like SIGTERM when spent, exit 75. */
      timeBudgetSec?: number;
      expectDigest?: string;
      requireApproval: boolean;
      /** `--without-approval`: a real send without the gate, on purpose (warned, recorded in the ledger). */
      withoutApproval: boolean;
    }
  | { command: "due"; root: string; format: "text" | "json" }
  | { command: "status"; root: string; dir: string; format: "text" | "json"; address?: string }
  | { command: "pin"; root: string; name: string; file: string; to: string }
  | { command: "unsubscribe-server"; root: string; port: number; host: string }
  | { command: "import-bounces"; root: string; files: string[] }
  | { command: "import-suppressions"; root: string; file: string }
  | { command: "compact-suppressions"; root: string; dryRun: boolean }
  | { command: "forget"; root: string; address: string }
  | { command: "preview"; root: string; dir: string; recipient?: string; out?: string; png?: string; width?: number; row?: number }
  | { command: "test-send"; root: string; dir: string; to: string[] }
  | { command: "gate"; root: string; target: { sha: string } | { pr: number }; format: "text" | "json"; publishStatus: boolean }
  | { command: "setup"; root: string; dryRun: boolean; format: "text" | "json" }
  | { command: "new"; root: string; slug: string }
  | { command: "help"; root: string; topic?: string };

export const COMMANDS = [
  "new", "check", "manifest", "preview", "test-send", "gate", "send", "status", "due", "setup",
  "pin", "unsubscribe-server", "import-bounces", "import-suppressions", "compact-suppressions", "forget",
] as const;

export const USAGE = `usage: newsletter [--root DIR] <command> ...

commands:
  new <slug>                                         creates newsletters/<today>-<slug>/ that passes \`check\` (exit 0, 2)
  check <dir>... [--format text|json|sarif|github] [--sarif-out FILE] [--manifest-out FILE]
                                                     schema, content and leakage checks (exit 0 clean, 1 findings, 2 usage/unreadable);
                                                     --sarif-out also writes the SARIF log, --manifest-out (one folder) what
                                                     \`manifest\` prints, from the same run (neither on exit 2)
  manifest <dir>                                     JSON manifest with the digest of every input (exit 0, 2)
  preview <dir> [--recipient EMAIL] [--out FILE]     the exact message one recipient gets (.eml, or .html by extension)
  preview <dir> --png FILE [--width N] [--row N]     a picture of its HTML part in headless Chromium (width 600)
  test-send <dir> [--to EMAIL...]                    the approval copy to the approvers (default: all in config)
  gate (--sha SHA | --pr N) [--format json] [--publish-status]
                                                     verify the approvals through the GitHub API (exit 0 approved,
                                                     1 not approved, 2 error: fail closed); --publish-status (with
                                                     --pr) sets the commit status newsletter/approvals on the head
  send <dir> [--dry-run] [--shard I/N] [--resend-in-doubt[=FILE]] [--time-budget SECONDS] [--expect-digest HEX]
       (--require-approval | --without-approval)     the real send (exit 0 done, 1 refused, 3 some failed/in doubt,
                                                     4 aborted by guard or breaker, 5 scheduled for later (send_after),
                                                     75 time budget spent: run again to continue, 130/143 halted by
                                                     signal); to an SMTP relay it needs the gate (--require-approval)
                                                     or says it sends without it (--without-approval: warned,
                                                     recorded); --resend-in-doubt=FILE skips the Message-IDs in FILE
                                                     (the relay delivered them)
  status <dir> [--format json] [--address EMAIL]     progress from the ledger, where the mail went, the schedule;
                                                     --address: did this address get it (by fingerprint)
  due [--format json]                                newsletters whose send is due now, and the shard matrix
  setup [--dry-run] [--format json]                  apply the rulesets "newsletter" (default branch: approvals,
                                                     code-owner review, required checks pinned to their apps, no
                                                     bypass) and "newsletter-state" (deploy keys only), report open
                                                     environments; --dry-run prints the requests instead (exit 0,
                                                     1 an environment is open, 2 error)
  pin <name> <file.csv> --to LOCATION                upload a list snapshot (s3://bucket/prefix/ or a path) and write
                                                     recipients/<name>.yml with its sha256 and row count
  unsubscribe-server --port N [--host ADDR]          RFC 8058 one-click unsubscribe endpoint (records fingerprints)
  import-bounces <file.eml>...                       suppress the recipients named by DSN bounce messages (RFC 3464)
  import-suppressions <file.csv>                     add a suppression CSV's addresses to the store, as fingerprints
  compact-suppressions [--dry-run]                   fold the suppression store's objects into one sorted snapshot
  forget <email>                                     erasure: a new snapshot of every list without the address, and
                                                     its fingerprint suppressed for good

<dir> is a newsletter folder such as newsletters/2026-12-01-winter-update.
newsletter <command> --help lists that command's flags and the environment variables it reads.
`;

/** Every flag of every command; which command takes which is decided below (onlyFor) and listed in help.ts. */
export const CLI_OPTIONS = {
  root: { type: "string" },
  format: { type: "string" },
  "dry-run": { type: "boolean" },
  shard: { type: "string" },
  "resend-in-doubt": { type: "boolean" },
  "delivered-file": { type: "string" },
  "time-budget": { type: "string" },
  "expect-digest": { type: "string" },
  "require-approval": { type: "boolean" },
  "without-approval": { type: "boolean" },
  recipient: { type: "string" },
  out: { type: "string" },
  png: { type: "string" },
  width: { type: "string" },
  row: { type: "string" },
  "sarif-out": { type: "string" },
  "manifest-out": { type: "string" },
  to: { type: "string", multiple: true },
  sha: { type: "string" },
  pr: { type: "string" },
  "publish-status": { type: "boolean" },
  address: { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseCli(argv: readonly string[], cwd: string): CliInput {
  let parsed;
  try {
    parsed = parseArgs({
      args: withResendFile(argv),
      allowPositionals: true,
      strict: true,
      options: CLI_OPTIONS,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${USAGE}`, { cause: e });
  }
  const { values, positionals } = parsed;
  const root = path.resolve(cwd, values.root ?? ".");
  const [command, ...rest] = positionals;
  if (command === "help" || (values.help && command !== undefined)) {
    const topic = command === "help" ? rest[0] : command;
    return topic !== undefined && (COMMANDS as readonly string[]).includes(topic) ? { command: "help", root, topic } : { command: "help", root };
  }
  if (values.help || command === undefined) return { command: "help", root };

  const onlyFor = (flag: keyof typeof values, cmds: string[]) => {
    if (values[flag] !== undefined && !cmds.includes(command)) {
      throw new UsageError(`--${flag} is not an option of '${command}'\n\n${USAGE}`);
    }
  };
  onlyFor("format", ["check", "status", "gate", "setup", "due"]);
  onlyFor("sarif-out", ["check"]);
  onlyFor("manifest-out", ["check"]);
  onlyFor("sha", ["gate"]);
  onlyFor("pr", ["gate"]);
  onlyFor("publish-status", ["gate"]);
  onlyFor("dry-run", ["send", "setup", "compact-suppressions"]);
  for (const f of ["shard", "resend-in-doubt", "delivered-file", "time-budget", "expect-digest", "require-approval", "without-approval"] as const) onlyFor(f, ["send"]);
  onlyFor("recipient", ["preview"]);
  for (const f of ["out", "png", "width", "row"] as const) onlyFor(f, ["preview"]);
  onlyFor("to", ["test-send", "pin"]);
  onlyFor("address", ["status"]);
  onlyFor("port", ["unsubscribe-server"]);
  onlyFor("host", ["unsubscribe-server"]);
  const oneDir = () => {
    if (rest.length !== 1) throw new UsageError(`${command} needs exactly one newsletter folder\n\n${USAGE}`);
    return toRepoPath(root, cwd, rest[0]!);
  };

  switch (command) {
    case "new": {
      if (rest.length !== 1) throw new UsageError(`new needs exactly one slug, e.g. newsletter new winter-update\n\n${USAGE}`);
      return { command, root, slug: rest[0]! };
    }
    case "check": {
      if (rest.length === 0) throw new UsageError(`check needs at least one newsletter folder\n\n${USAGE}`);
      const format = values.format ?? "text";
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`--format '${format}' is not one of: ${FORMATS.join(", ")}`);
      }
      const sarifOut = values["sarif-out"];
      const manifestOut = values["manifest-out"];
      for (const [flag, v] of [["--sarif-out", sarifOut], ["--manifest-out", manifestOut]] as const) {
        if (v !== undefined && v.trim() === "") throw new UsageError(`${flag} needs a file name\n\n${USAGE}`);
      }
      if (manifestOut !== undefined && rest.length !== 1) {
        throw new UsageError(`--manifest-out needs exactly one newsletter folder (a manifest describes one)\n\n${USAGE}`);
      }
      return {
        command, root, dirs: rest.map((d) => toRepoPath(root, cwd, d)), format: format as FormatName,
        ...(sarifOut !== undefined ? { sarifOut: path.resolve(cwd, sarifOut) } : {}),
        ...(manifestOut !== undefined ? { manifestOut: path.resolve(cwd, manifestOut) } : {}),
      };
    }
    case "manifest": {
      if (rest.length !== 1) throw new UsageError(`manifest needs exactly one newsletter folder\n\n${USAGE}`);
      return { command, root, dir: toRepoPath(root, cwd, rest[0]!) };
    }
    case "send": {
      const dir = oneDir();
      let shard: { index: number; count: number } | null = null;
      if (values.shard !== undefined) {
        const m = /^(\d+)\/(\d+)$/.exec(values.shard);
        const index = m ? Number(m[1]) : NaN;
        const count = m ? Number(m[2]) : NaN;
        if (!m || count < 1 || count > 1000 || index < 1 || index > count) {
          throw new UsageError(`--shard '${values.shard}' must be I/N with 1 ≤ I ≤ N ≤ 1000, e.g. --shard 2/4`);
        }
        shard = { index, count };
      }
      if (values["require-approval"] && values["without-approval"]) {
        throw new UsageError("give at most one of --require-approval and --without-approval");
      }
      const expectDigest = values["expect-digest"];
      if (expectDigest !== undefined && !/^[0-9a-fA-F]{64}$/.test(expectDigest)) {
        throw new UsageError(`--expect-digest must be the 64-hex-digit digest from the manifest`);
      }
      const budget = values["time-budget"];
      const timeBudgetSec = budget === undefined ? undefined : Number(budget);
      if (timeBudgetSec !== undefined && (!/^\d+(\.\d+)?$/.test(budget!) || timeBudgetSec <= 0 || timeBudgetSec > 30 * 86400)) {
        throw new UsageError(`--time-budget '${budget}' must be a number of seconds above 0, e.g. --time-budget 19800 (5 h 30 min)`);
      }
      const deliveredFile = values["delivered-file"];
      if (deliveredFile !== undefined && deliveredFile.trim() === "") throw new UsageError(`--resend-in-doubt=FILE needs a file name`);
      return {
        command, root, dir, shard,
        dryRun: values["dry-run"] ?? false,
        resendInDoubt: (values["resend-in-doubt"] ?? false) || deliveredFile !== undefined,
        ...(deliveredFile !== undefined ? { deliveredFile: path.resolve(cwd, deliveredFile) } : {}),
        ...(timeBudgetSec !== undefined ? { timeBudgetSec } : {}),
        requireApproval: values["require-approval"] ?? false,
        withoutApproval: values["without-approval"] ?? false,
        ...(expectDigest !== undefined ? { expectDigest } : {}),
      };
    }
    case "status": {
      const format = values.format ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError(`status --format must be text or json`);
      return { command, root, dir: oneDir(), format, ...(values.address !== undefined ? { address: values.address } : {}) };
    }
    case "pin": {
      const to = values.to?.[0];
      if (rest.length !== 2 || to === undefined || values.to!.length !== 1) {
        throw new UsageError(`pin needs a list name, a CSV file and --to LOCATION\n\n${USAGE}`);
      }
      if (!/^[a-z0-9][a-z0-9._-]*$/.test(rest[0]!) || rest[0] === "suppressions") {
        throw new UsageError(`pin: '${rest[0]}' is not a list name (lowercase letters, digits, '.', '_' or '-')`);
      }
      return { command, root, name: rest[0]!, file: path.resolve(cwd, rest[1]!), to };
    }
    case "unsubscribe-server": {
      if (rest.length > 0) throw new UsageError(`unsubscribe-server takes no folder\n\n${USAGE}`);
      const port = Number(values.port ?? "NaN");
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`unsubscribe-server needs --port N (0–65535)`);
      return { command, root, port, host: values.host ?? "0.0.0.0" };
    }
    case "import-bounces": {
      if (rest.length === 0) throw new UsageError(`import-bounces needs at least one .eml file\n\n${USAGE}`);
      return { command, root, files: rest.map((f) => path.resolve(cwd, f)) };
    }
    case "import-suppressions": {
      if (rest.length !== 1) throw new UsageError(`import-suppressions needs exactly one CSV file\n\n${USAGE}`);
      return { command, root, file: path.resolve(cwd, rest[0]!) };
    }
    case "compact-suppressions": {
      if (rest.length > 0) throw new UsageError(`compact-suppressions takes no arguments, only --dry-run\n\n${USAGE}`);
      return { command, root, dryRun: values["dry-run"] ?? false };
    }
    case "forget": {
      if (rest.length !== 1) throw new UsageError(`forget needs exactly one address\n\n${USAGE}`);
      return { command, root, address: rest[0]! };
    }
    case "due": {
      if (rest.length > 0) throw new UsageError(`due takes no folder: it looks at every newsletter\n\n${USAGE}`);
      const format = values.format ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError(`due --format must be text or json`);
      return { command, root, format };
    }
    case "preview": {
      const count = (flag: string, v: string | undefined, min: number, max: number) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}`);
        return n;
      };
      const width = count("width", values.width, 200, 2000);
      const row = count("row", values.row, 1, 100_000_000);
      if (values.png === undefined && (width !== undefined || row !== undefined)) throw new UsageError(`--width and --row go with --png FILE`);
      if (row !== undefined && values.recipient !== undefined) throw new UsageError(`--row and --recipient both choose the recipient: give one`);
      return {
        command, root, dir: oneDir(),
        ...(values.recipient !== undefined ? { recipient: values.recipient } : {}),
        ...(values.out !== undefined ? { out: path.resolve(cwd, values.out) } : {}),
        ...(values.png !== undefined ? { png: path.resolve(cwd, values.png) } : {}),
        ...(width !== undefined ? { width } : {}),
        ...(row !== undefined ? { row } : {}),
      };
    }
    case "test-send":
      return { command, root, dir: oneDir(), to: values.to ?? [] };
    case "gate": {
      if (rest.length > 0) throw new UsageError(`gate takes no folder, only --sha SHA or --pr N\n\n${USAGE}`);
      if ((values.sha === undefined) === (values.pr === undefined)) throw new UsageError(`gate needs exactly one of --sha SHA and --pr N`);
      const format = values.format ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError(`gate --format must be text or json`);
      const publishStatus = values["publish-status"] ?? false;
      if (values.sha !== undefined) {
        if (!/^[0-9a-f]{40}$/.test(values.sha)) throw new UsageError(`--sha must be a full 40-hex commit SHA`);
        if (publishStatus) throw new UsageError(`--publish-status goes with --pr N (the status is set on the pull request's head)`);
        return { command, root, target: { sha: values.sha }, format, publishStatus };
      }
      const pr = Number(values.pr);
      if (!Number.isInteger(pr) || pr < 1) throw new UsageError(`--pr must be a pull request number`);
      return { command, root, target: { pr }, format, publishStatus };
    }
    case "setup": {
      if (rest.length > 0) throw new UsageError(`setup takes no arguments, only --dry-run and --format json\n\n${USAGE}`);
      const format = values.format ?? "text";
      if (format !== "text" && format !== "json") throw new UsageError(`setup --format must be text or json`);
      return { command, root, dryRun: values["dry-run"] ?? false, format };
    }
    default:
      throw new UsageError(`unknown command '${command}'; commands: ${COMMANDS.join(", ")}\n\n${USAGE}`);
  }
}

/**
 * `--resend-in-doubt=FILE` is the documented spelling; parseArgs has no
 * option that is a flag alone or takes a value, so it is read here as the
 * flag plus `--delivered-file FILE`.
 */
function withResendFile(argv: readonly string[]): string[] {
  return argv.flatMap((a) => (a.startsWith("--resend-in-doubt=") ? ["--resend-in-doubt", "--delivered-file", a.slice("--resend-in-doubt=".length)] : [a]));
}

/**
 * A folder given on the command line, as a repository-relative path with `/`.
 * Relative folders are taken relative to the root (as the workflows pass
 * them) and, failing that, to the current directory.
 */
function toRepoPath(root: string, cwd: string, dir: string): string {
  const fromRoot = path.resolve(root, dir);
  const abs = path.isAbsolute(dir) ? dir : fromRoot;
  let rel = path.relative(root, abs);
  if (rel.startsWith("..")) rel = path.relative(root, path.resolve(cwd, dir));
  if (rel.startsWith("..") || path.isAbsolute(rel)) {
    throw new UsageError(`${dir}: not inside the repository root ${root}`);
  }
  return rel.split(path.sep).join("/").replace(/\/+$/, "");
}
