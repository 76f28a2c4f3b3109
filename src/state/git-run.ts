/**
 * Runs one `git` process: an argument array (never a shell, so no quoting
 * bugs and no injection through a path or a message), English messages
 * (LC_ALL=C) because a few outcomes are recognised by their text, no prompts
 * (GIT_TERMINAL_PROMPT=0: a CI job must fail, not hang waiting for a password),
 * and every byte it reports scrubbed of URL credentials before it can reach
 * an error message or a log.
 */
import { spawn } from "node:child_process";
import { redact } from "../address/redact.ts";
import { GitCommandError, StateBranchError } from "./errors.ts";

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunGitOptions {
  cwd: string;
  /** Extra environment (author/committer identity). */
  env?: Record<string, string>;
  /** Exit codes that are answers, not failures (e.g. 1 of `merge-base --is-ancestor`). */
  okCodes?: readonly number[];
  /** Kill the process after this long; a hung network must not hang the send. Default 120 s. */
  timeoutMs?: number;
  /** Exact strings to scrub besides URL userinfo (a token that git might print on its own). */
  secrets?: readonly string[];
}

/**
 * Variables that would point git at another repository, index or object
 * store than the one in `cwd` — set, for example, when the tool runs inside
 * a git hook. They must not leak into our commands.
 */
const REDIRECTING = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
  "GIT_CEILING_DIRECTORIES",
];

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/giu;

/** `https://x-access-token:ghs_…@github.com/o/r` → `https://***@github.com/o/r`, and every `secrets` entry → `***`. */
export function scrubCredentials(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(USERINFO, "$1***@");
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("***");
  return out;
}

/** The user name and password of a URL remote, for exact-string scrubbing; [] for a path. */
export function urlSecrets(remote: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/\s@]+)@/iu.exec(remote);
  if (!m?.[1]) return [];
  const parts = m[1].split(":").flatMap((p) => {
    try {
      return [p, decodeURIComponent(p)];
    } catch {
      return [p];
    }
  });
  return [m[1], ...parts].filter((s) => s.length >= 4);
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REDIRECTING) delete env[k];
  return { ...env, GIT_TERMINAL_PROMPT: "0", GCM_INTERACTIVE: "never", LC_ALL: "C", LANGUAGE: "C", ...extra };
}

export function runGit(args: readonly string[], o: RunGitOptions): Promise<GitResult> {
  const secrets = o.secrets ?? [];
  const shown = args.map((a) => scrubCredentials(a, secrets));
  return new Promise((resolve, reject) => {
    const child = spawn("git", [...args], {
      cwd: o.cwd,
      env: childEnv(o.env),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: o.timeoutMs ?? 120_000,
      killSignal: "SIGKILL",
      windowsHide: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") {
        reject(new StateBranchError("git-unavailable", "git is not installed or not on PATH; the state branch needs it", { cause: e }));
      } else {
        reject(new StateBranchError("git-failed", `could not run git ${shown.join(" ")}: ${e.code ?? e.message}`, { cause: e }));
      }
    });
    child.on("close", (code, signal) => {
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (code !== null && (code === 0 || (o.okCodes ?? []).includes(code))) {
        resolve({ stdout, stderr, exitCode: code });
        return;
      }
      const text = redact(scrubCredentials((stderr.trim() || stdout.trim()).slice(0, 2000), secrets));
      reject(new GitCommandError(shown, code, signal, text));
    });
  });
}
