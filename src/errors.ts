/**
 * The typed error hierarchy (modelled on release-please's src/errors/index.ts).
 *
 * Callers branch on `code` or on the class, never on message text. Every error
 * maps to one exit code of the command line (README.md). Messages
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
  | "setup-error"
  | "state-branch"
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

/** What a failed call to an outside API means to a command (the gate, setup). */
export type ApiFailureKind =
  /** The GitHub API answered with an error status, or could not be reached. */
  | "api"
  /** Something the command needs does not exist (a 404 where existence is required). */
  | "not-found"
  /** A list came back capped or truncated (GitHub caps PR commits at 250 and PR files at 3000). */
  | "truncated"
  /** An answer the command cannot trust: a malformed time, a field of the wrong shape, an inconsistent pair. */
  | "invalid-response";

/**
 * The one mapping from a GitHub client error (its `kind`, src/github/errors.ts:
 * http, network, rate-limited, not-found, truncated, invalid-response) to
 * what it means to a command; undefined for anything else. The HTTP status
 * was mapped to that `kind` once, by the client (`toGitHubError`). Read from
 * `kind` so that core modules (the gate's port guard) need not import the
 * adapter. docs/design.md, "Layers".
 */
export function apiFailureKind(e: unknown): ApiFailureKind | undefined {
  const kind = e instanceof Error ? (e as { kind?: unknown }).kind : undefined;
  switch (kind) {
    case "not-found":
    case "truncated":
    case "invalid-response":
      return kind;
    case "http":
    case "network":
    case "rate-limited":
      return "api";
    default:
      return undefined;
  }
}

/** What made the approval gate unable to decide (it then fails closed). */
export type GateErrorKind =
  | ApiFailureKind
  /** The port threw something untyped; wrapped so that the gate still has one failure path. */
  | "port";

/**
 * The approval gate could not reach a verdict: any API error, 404 or truncated
 * list (docs/design.md, "The approval gate": every API error, 404 or truncated
 * list fails closed, with a message naming the cause). Exit 2. A verdict of "not
 * approved" is not an error: it is a GateResult with `approved: false` (exit 1).
 * Branch on `kind`, never on the message.
 */
export class GateError extends NewsletterError {
  readonly code = "gate-error" as const;
  readonly exitCode = 2;
  /** The port call that failed, e.g. `reviews(12)`, when known. */
  readonly operation: string | undefined;
  constructor(
    readonly kind: GateErrorKind,
    message: string,
    options?: { cause?: unknown; operation?: string },
  ) {
    super(message, options);
    this.operation = options?.operation;
  }
}
