/**
 * The typed error hierarchy (modelled on release-please's src/errors/index.ts).
 *
 * Callers branch on `code` or on the class, never on message text. Every error
 * maps to one exit code of the command-line contract in DESIGN.md. Messages
 * must never hold a recipient address in full: build them with `mask()`.
 */

export type ErrorCode =
  | "usage"
  | "unreadable-input"
  | "findings"
  | "refused"
  | "guard-abort"
  | "circuit-open"
  | "partial-failure"
  | "halted"
  | "gate-denied"
  | "gate-error"
  | "internal";

export abstract class NewsletterError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line: unknown command, missing argument, bad flag value. Exit 2. */
export class UsageError extends NewsletterError {
  readonly code = "usage" as const;
  readonly exitCode = 2;
}

/**
 * An input that cannot be read at all: missing file or folder, permission,
 * bytes that are not UTF-8. Exit 2. `file` is relative to the repository root.
 */
export class UnreadableInputError extends NewsletterError {
  readonly code = "unreadable-input" as const;
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    message: string,
    readonly line = 1,
    readonly column = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Checks found errors; nothing may be sent. Exit 1. */
export class FindingsError extends NewsletterError {
  readonly code = "findings" as const;
  readonly exitCode = 1;
}

/** `send` refused before the first message (digest mismatch, edited after send...). Exit 1. */
export class RefusedError extends NewsletterError {
  readonly code = "refused" as const;
  readonly exitCode = 1;
}

/** The per-message guard found a foreign address in composed bytes. Exit 4. */
export class GuardAbortError extends NewsletterError {
  readonly code = "guard-abort" as const;
  readonly exitCode = 4;
}

/** An unexpected failure in our own code. Exit 2 for commands whose contract has no other code. */
export class InternalError extends NewsletterError {
  readonly code = "internal" as const;
  readonly exitCode = 2;
}

export function isNewsletterError(e: unknown): e is NewsletterError {
  return e instanceof NewsletterError;
}
