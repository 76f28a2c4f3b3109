/**
 * Errors of the Actions step entry points. Each is a NewsletterError, so the
 * one failure path (main.ts) maps it to a `::error::` line and its exit code
 * without a stack trace.
 */
import { NewsletterError } from "../errors.ts";

/**
 * A variable the step needs is missing or malformed (a workflow mistake, not
 * a bug): exit 2, and the message says what to set.
 */
export class StepInputError extends NewsletterError {
  readonly code = "usage" as const;
  readonly exitCode = 2;
}

/** A GitHub API call of a step failed (after the client's own retries): exit 2. */
export class StepApiError extends NewsletterError {
  readonly code = "internal" as const;
  readonly exitCode = 2;
}
