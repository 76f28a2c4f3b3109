/**
 * `setup` could not apply the ruleset: an API error, a 404 or a response it
 * cannot use. Exit 2, like every error of the command-line contract that is
 * not a verdict. Branch on `kind`, never on the message.
 */
import { NewsletterError } from "../errors.ts";

export type SetupErrorKind =
  /** GitHub answered with an error status or could not be reached (403: the token may not administer the repository). */
  | "api"
  /** A 404 where the ruleset or repository must exist. */
  | "not-found"
  /** A list longer than GitHub returns in full (the rulesets, a deployment-branch policy list). */
  | "truncated"
  /** A response without the fields setup needs. */
  | "invalid-response";

export class SetupError extends NewsletterError {
  readonly code = "setup-error" as const;
  readonly exitCode = 2;
  readonly operation: string;
  constructor(
    readonly kind: SetupErrorKind,
    operation: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.operation = operation;
  }
}
