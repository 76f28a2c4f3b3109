/**
 * Errors of the state-branch adapter. Callers branch on `kind`, never on the
 * message. Messages and causes never hold a credential from a remote URL
 * (scrubbed by src/state/git-run.ts) nor an address in full (redacted).
 */
import { NewsletterError } from "../errors.ts";

export type StateBranchErrorKind =
  /** `git` is not installed or not on PATH. */
  | "git-unavailable"
  /** A git command failed for a reason we do not retry (network, auth, corrupt repository). */
  | "git-failed"
  /** The remote refused the push for a reason retrying cannot fix (protected branch, hook, permission). */
  | "push-rejected"
  /** Every attempt lost the race against other pushers (non-fast-forward) within the retry budget. */
  | "push-contended"
  /** A path outside the branch's tree (absolute, `..`, `.git`). */
  | "bad-path"
  /** The worktree directory holds something that is not ours. */
  | "bad-dir";

/**
 * The state branch could not be read or written. Exit 2 like other failures
 * of our own machinery: a send that cannot checkpoint its claims must stop,
 * not guess.
 */
export class StateBranchError extends NewsletterError {
  readonly code = "state-branch" as const;
  readonly exitCode = 2;
  constructor(
    readonly kind: StateBranchErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One git process that exited non-zero; the usual `cause` of a StateBranchError. */
export class GitCommandError extends Error {
  constructor(
    /** The argument list, credentials scrubbed. */
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    /** stderr (and stdout when stderr is empty), credentials scrubbed, addresses masked, cut to 2,000 characters. */
    readonly output: string,
  ) {
    const status = signal ? `killed by ${signal}` : `exit ${String(exitCode)}`;
    super(`git ${args.join(" ")} failed (${status})${output ? `: ${output}` : ""}`);
    this.name = "GitCommandError";
  }
}
