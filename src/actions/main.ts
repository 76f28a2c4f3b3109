/**
 * `step <name>`: the entry points of the workflow steps. Reads the
 * runner's environment once (env.ts), runs one step, and has exactly one
 * failure path (in the manner of changesets/action's src/index.ts): a typed
 * error becomes one `::error::` line and its contract exit code; a mistake
 * in the workflow (a missing variable) says what to set; anything else is an
 * internal error (exit 2) whose stack is shown only with NEWSLETTER_DEBUG=1.
 * Every message on that path is redacted.
 *
 * Steps are loaded when they run, like the CLI's commands.
 */
import { redact } from "../address/redact.ts";
import type { Io } from "../runtime/io.ts";
import { isNewsletterError } from "../errors.ts";
import { GitHubApiError } from "../github/errors.ts";
import type { StepContext } from "./context.ts";
import { readActionsEnv } from "./env.ts";
import { StepInputError } from "./errors.ts";
import { annotate } from "./runner.ts";

export const STEPS = {
  "pr-comment": async (ctx: StepContext) => (await import("./steps/pr-comment.ts")).runPrComment(ctx),
  "approval-record": async (ctx: StepContext) => (await import("./steps/approval-record.ts")).runApprovalRecord(ctx),
  audit: async (ctx: StepContext) => (await import("./steps/audit.ts")).runAudit(ctx),
  "pr-pictures": async (ctx: StepContext) => (await import("./steps/pr-pictures.ts")).runPrPictures(ctx),
} as const;

export type StepName = keyof typeof STEPS;

export const STEP_USAGE = `usage: npm run -s step -- <name>

steps (inputs come from the environment, as the workflow sets it):
  pr-comment        the sticky manifest comment on the pull request
  approval-record   the approval copy's Message-IDs and time, as a comment for the audit record
  audit             the audit record: state branch, pull request comment, job summary, outputs
  pr-pictures       desktop and phone pictures of the approval copy on the pull request (previews branch)
`;

export async function runStep(argv: readonly string[], io: Io, cwd: string): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.out(STEP_USAGE);
    return name === undefined ? 2 : 0;
  }
  try {
    const step = stepNamed(name, argv.length - 1);
    const env = readActionsEnv(io.env, cwd);
    return await STEPS[step]({ env, io });
  } catch (e) {
    return failed(e, Object.hasOwn(STEPS, name) ? `newsletter step ${name}` : "newsletter step", io);
  }
}

/** The step `name` names, or a StepInputError: an unknown name, or arguments (the inputs come from the environment). */
function stepNamed(name: string, extra: number): StepName {
  if (!Object.hasOwn(STEPS, name)) {
    throw new StepInputError(`unknown step ${JSON.stringify(name.slice(0, 40))}; the steps are ${Object.keys(STEPS).join(", ")}`);
  }
  if (extra > 0) throw new StepInputError(`step ${name} takes no arguments: its inputs come from the environment`);
  return name as StepName;
}

/** The one failure path: one redacted `::error::` annotation and the exit code. */
function failed(e: unknown, title: string, io: Io): number {
  if (isNewsletterError(e)) {
    annotate("error", e.message, title);
    return e.exitCode;
  }
  if (e instanceof GitHubApiError) {
    annotate("error", `GitHub API: ${e.message}`, title);
    return 2;
  }
  const err = e as Error;
  annotate("error", `internal error: ${err?.message ?? String(e)}`, title);
  if (io.env.NEWSLETTER_DEBUG === "1" && err?.stack) io.err(`${redact(err.stack)}\n`);
  return 2;
}
