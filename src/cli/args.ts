/**
 * Reads the command line once into a typed object (DESIGN.md "Command line").
 * Everything after this works on `CliInput`, never on argv.
 */
import { parseArgs } from "node:util";
import path from "node:path";
import { UsageError } from "../errors.ts";

import { FORMATS, type Format as FormatName } from "../report/index.ts";

export type CliInput =
  | { command: "check"; root: string; dirs: string[]; format: FormatName }
  | { command: "manifest"; root: string; dir: string }
  | { command: "help"; root: string };

export const COMMANDS = ["check", "manifest"] as const;

export const USAGE = `usage: newsletter [--root DIR] <command> ...

commands:
  check <dir>... [--format text|json|sarif|github]   schema, content and leakage checks (exit 0 clean, 1 findings, 2 usage/unreadable)
  manifest <dir>                                     JSON manifest with the digest of every input (exit 0, 2)

<dir> is a newsletter folder such as newsletters/2026-12-01-winter-update.
`;

export function parseCli(argv: readonly string[], cwd: string): CliInput {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        root: { type: "string" },
        format: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n\n${USAGE}`, { cause: e });
  }
  const { values, positionals } = parsed;
  const root = path.resolve(cwd, values.root ?? ".");
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") return { command: "help", root };

  const onlyFor = (flag: keyof typeof values, cmds: string[]) => {
    if (values[flag] !== undefined && !cmds.includes(command)) {
      throw new UsageError(`--${flag} is not an option of '${command}'\n\n${USAGE}`);
    }
  };
  onlyFor("format", ["check"]);

  switch (command) {
    case "check": {
      if (rest.length === 0) throw new UsageError(`check needs at least one newsletter folder\n\n${USAGE}`);
      const format = values.format ?? "text";
      if (!(FORMATS as readonly string[]).includes(format)) {
        throw new UsageError(`--format '${format}' is not one of: ${FORMATS.join(", ")}`);
      }
      return { command, root, dirs: rest.map((d) => toRepoPath(root, cwd, d)), format: format as FormatName };
    }
    case "manifest": {
      if (rest.length !== 1) throw new UsageError(`manifest needs exactly one newsletter folder\n\n${USAGE}`);
      return { command, root, dir: toRepoPath(root, cwd, rest[0]!) };
    }
    default:
      throw new UsageError(`unknown command '${command}'; commands: ${COMMANDS.join(", ")}\n\n${USAGE}`);
  }
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
