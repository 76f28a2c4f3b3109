/**
 * The Actions runner's environment, read ONCE into a typed object
 * (docs/design.md, "Layers": entry points read inputs once and pass them
 * inward). Steps never look at process.env themselves; the runner's own
 * files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) are @actions/core's to find
 * (runner.ts).
 *
 * Malformed values are refused here, at once (a PR number that is not a
 * number, a SHA that is not one, an event file that is not JSON). Missing
 * values are refused only by the step that needs them, through `need()`,
 * with a message naming the variable and where its value comes from
 * (exit 2: a workflow mistake, not a bug).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { StepInputError } from "./errors.ts";

/** The parts of a webhook payload the steps read (pull_request, pull_request_review, push, workflow_dispatch). */
export interface RunnerEvent {
  readonly number?: number;
  readonly ref?: string;
  readonly after?: string;
  readonly pull_request?: {
    readonly number: number;
    readonly html_url?: string;
    readonly head: { readonly sha: string; readonly ref: string; readonly repo?: { readonly full_name?: string } | null };
    readonly base: { readonly sha: string; readonly ref: string };
  };
  readonly repository?: { readonly full_name?: string; readonly default_branch?: string; readonly private?: boolean; readonly visibility?: string };
}

export interface StepInputs {
  /** NEWSLETTER_DIR: the newsletter folder, `newsletters/<id>`. */
  readonly dir: string | null;
  /** NEWSLETTER_PR, else the event's pull request number. */
  readonly pr: number | null;
  /** NEWSLETTER_SHA: the commit being sent (the merge commit). */
  readonly sha: string | null;
  /** NEWSLETTER_DIGEST: the digest recorded on the pull request. */
  readonly digest: string | null;
  /** SEND_OUTCOME: `steps.send.outcome` (success, failure, cancelled, skipped). */
  readonly sendOutcome: string | null;
  /** CHECK_OUTCOME: `steps.check.outcome`, shown on the manifest comment beside the step's own check. */
  readonly checkOutcome: string | null;
  /** NEWSLETTER_SHARD: `I/N` or `I-of-N` as given to `send --shard`; default the whole list. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  /** NEWSLETTER_GATE_JSON: the output of `gate --format json` (the resolve job passes it on). */
  readonly gateJson: string | null;
  /** NEWSLETTER_GATE_FILE: a file holding it; default `$RUNNER_TEMP/gate.json`. */
  readonly gateFile: string | null;
  /** NEWSLETTER_STATE_DIR, resolved against the workspace (default `.newsletter-state`). */
  readonly stateDir: string;
  /** NEWSLETTER_STATE_BRANCH (default `newsletter-state`). */
  readonly stateBranch: string;
  /** NEWSLETTER_STATE_REMOTE: URL or path of the state branch's remote; default the workspace's `origin`. */
  readonly stateRemote: string | null;
  /**
   * NEWSLETTER_COMMENT_AUTHORS: logins whose comments are this tool's
   * (comma-separated). Default `github-actions[bot]`, the identity of
   * GITHUB_TOKEN; add the App's `<slug>[bot]` when the steps use an App token.
   */
  readonly commentAuthors: readonly string[];
  /** NEWSLETTER_PREVIEWS_BRANCH: the branch holding the pull requests' pictures (default `newsletter-previews`). */
  readonly previewsBranch: string;
  /** NEWSLETTER_PREVIEWS_REMOTE: URL or path to push the pictures to; default the repository over https with GITHUB_TOKEN. */
  readonly previewsRemote: string | null;
}

export interface ActionsEnv {
  /** The environment as read, for the core functions that take one (gate, transports). */
  readonly raw: Readonly<Record<string, string | undefined>>;
  /** GITHUB_WORKSPACE, else the current directory: the repository root. */
  readonly workspace: string;
  readonly eventName: string | null;
  /** The parsed GITHUB_EVENT_PATH, or null when there is none. */
  readonly event: RunnerEvent | null;
  readonly repository: string | null;
  readonly token: string | null;
  readonly apiUrl: string;
  readonly serverUrl: string;
  readonly runId: string | null;
  readonly runAttempt: string | null;
  readonly runnerTemp: string | null;
  readonly inputs: StepInputs;
}

const SHA_RE = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;
const REPO_RE = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
const LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

function bad(name: string, why: string): StepInputError {
  return new StepInputError(`${name} ${why}`);
}

function opt(env: Readonly<Record<string, string | undefined>>, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === "" ? null : v.trim();
}

function shaOf(name: string, v: string | null): string | null {
  if (v === null) return null;
  if (!SHA_RE.test(v)) throw bad(name, "is not a commit SHA (40 lowercase hex digits)");
  return v;
}

function readEvent(file: string | null): RunnerEvent | null {
  if (file === null) return null;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw bad("GITHUB_EVENT_PATH", `names a file that cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw bad("GITHUB_EVENT_PATH", "names a file that is not JSON");
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) throw bad("GITHUB_EVENT_PATH", "names a file that is not a JSON object");
  const pr = (event as RunnerEvent).pull_request;
  if (pr !== undefined) {
    if (!Number.isSafeInteger(pr.number) || pr.number < 1) throw bad("GITHUB_EVENT_PATH", "holds a pull_request without a number");
    if (typeof pr.head?.sha !== "string" || !SHA_RE.test(pr.head.sha)) throw bad("GITHUB_EVENT_PATH", "holds a pull_request without a head SHA");
  }
  return event as RunnerEvent;
}

function shardOf(v: string | null): { index: number; count: number } | null {
  if (v === null || v === "all") return null;
  const m = /^([1-9][0-9]{0,3})(?:\/|-of-)([1-9][0-9]{0,3})$/.exec(v);
  if (!m) throw bad("NEWSLETTER_SHARD", 'must be "I/N" (as for send --shard) or "all"');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (index > count) throw bad("NEWSLETTER_SHARD", "names a shard beyond the count");
  return count === 1 ? null : { index, count };
}

/** Reads and validates the environment once. Throws StepInputError for a malformed value. */
export function readActionsEnv(env: Readonly<Record<string, string | undefined>>, cwd: string): ActionsEnv {
  const workspace = path.resolve(cwd, opt(env, "GITHUB_WORKSPACE") ?? ".");
  const event = readEvent(opt(env, "GITHUB_EVENT_PATH"));

  const repository = opt(env, "GITHUB_REPOSITORY");
  if (repository !== null && !REPO_RE.test(repository)) throw bad("GITHUB_REPOSITORY", 'must be "owner/name"');

  const prText = opt(env, "NEWSLETTER_PR");
  let pr: number | null = null;
  if (prText !== null) {
    if (!/^[1-9][0-9]{0,9}$/.test(prText)) throw bad("NEWSLETTER_PR", "is not a pull request number");
    pr = Number(prText);
  } else if (event?.pull_request) {
    pr = event.pull_request.number;
  }

  const digest = opt(env, "NEWSLETTER_DIGEST");
  if (digest !== null && !DIGEST_RE.test(digest)) throw bad("NEWSLETTER_DIGEST", "is not a sha256 digest (64 lowercase hex digits)");

  const dir = opt(env, "NEWSLETTER_DIR");
  if (dir !== null && !/^newsletters\/[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*\/?$/.test(dir)) {
    throw bad("NEWSLETTER_DIR", "must be a newsletter folder, newsletters/YYYY-MM-DD-slug");
  }

  const authors = (opt(env, "NEWSLETTER_COMMENT_AUTHORS") ?? "github-actions[bot]")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of authors) if (!LOGIN_RE.test(a)) throw bad("NEWSLETTER_COMMENT_AUTHORS", "must be GitHub logins separated by commas");

  const apiUrl = (opt(env, "GITHUB_API_URL") ?? "https://api.github.com").replace(/\/+$/, "");
  const serverUrl = (opt(env, "GITHUB_SERVER_URL") ?? "https://github.com").replace(/\/+$/, "");
  for (const [name, url] of [["GITHUB_API_URL", apiUrl], ["GITHUB_SERVER_URL", serverUrl]] as const) {
    if (!/^https?:\/\/[^\s@/]+(?:\/[^\s@]*)?$/.test(url)) throw bad(name, "is not an http(s) URL without credentials");
  }
  const runId = opt(env, "GITHUB_RUN_ID");
  if (runId !== null && !/^[0-9]+$/.test(runId)) throw bad("GITHUB_RUN_ID", "is not a number");
  const runnerTemp = opt(env, "RUNNER_TEMP");

  return {
    raw: { ...env },
    workspace,
    eventName: opt(env, "GITHUB_EVENT_NAME"),
    event,
    repository,
    token: opt(env, "GITHUB_TOKEN"),
    apiUrl,
    serverUrl,
    runId,
    runAttempt: opt(env, "GITHUB_RUN_ATTEMPT"),
    runnerTemp,
    inputs: {
      dir: dir?.replace(/\/$/, "") ?? null,
      pr,
      sha: shaOf("NEWSLETTER_SHA", opt(env, "NEWSLETTER_SHA")),
      digest,
      sendOutcome: opt(env, "SEND_OUTCOME"),
      checkOutcome: opt(env, "CHECK_OUTCOME"),
      shard: shardOf(opt(env, "NEWSLETTER_SHARD")),
      gateJson: opt(env, "NEWSLETTER_GATE_JSON"),
      gateFile: opt(env, "NEWSLETTER_GATE_FILE") ?? (runnerTemp !== null ? path.join(runnerTemp, "gate.json") : null),
      stateDir: path.resolve(workspace, opt(env, "NEWSLETTER_STATE_DIR") ?? ".newsletter-state"),
      stateBranch: opt(env, "NEWSLETTER_STATE_BRANCH") ?? "newsletter-state",
      stateRemote: opt(env, "NEWSLETTER_STATE_REMOTE"),
      commentAuthors: authors,
      previewsBranch: opt(env, "NEWSLETTER_PREVIEWS_BRANCH") ?? "newsletter-previews",
      previewsRemote: opt(env, "NEWSLETTER_PREVIEWS_REMOTE"),
    },
  };
}

/** What to set, per variable, in the error for a missing one. */
const HOW: Record<string, string> = {
  GITHUB_TOKEN: "pass `GITHUB_TOKEN: ${{ github.token }}` (or an App token) in the step's env",
  GITHUB_REPOSITORY: "the runner sets it; outside Actions set it to owner/name",
  NEWSLETTER_DIR: "pass the newsletter folder (newsletters/YYYY-MM-DD-slug) in the step's env",
  NEWSLETTER_PR: "pass the pull request number in the step's env, or run the step on a pull_request event",
  NEWSLETTER_DIGEST: "pass the digest recorded on the pull request in the step's env",
  GITHUB_STEP_SUMMARY: "the runner sets it; outside Actions point it at a file",
  GITHUB_OUTPUT: "the runner sets it; outside Actions point it at a file",
};

/** The value, or a StepInputError naming the variable and how to set it. */
export function need<T>(value: T | null | undefined, variable: string, why: string): T {
  if (value === null || value === undefined) {
    throw new StepInputError(`${variable} is not set: ${why}; ${HOW[variable] ?? "set it in the step's env"}`);
  }
  return value;
}

/** The newsletter id of `newsletters/<id>`. */
export function newsletterIdOf(dir: string): string {
  return dir.replace(/\/$/, "").split("/").at(-1) ?? dir;
}
