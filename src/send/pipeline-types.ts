/** The send loop's vocabulary (pipeline.ts): what goes in, what it is told, what comes out. */
import type { GuardContext, GuardVerdict } from "../guard/port.ts";
import type { Ledger } from "../ledger/ledger.ts";
import type { Envelope, MailTransport } from "../mail/port.ts";
import type { Halt } from "./halt.ts";
import type { RetryPolicy } from "./policy.ts";

/** One composed message, ready for the guard and the transport. */
export interface Outgoing {
  envelope: Envelope;
  raw: Buffer;
  messageId: string;
  guard: GuardContext;
}

/** One recipient as the loop sees it: identity for the ledger, composition deferred until its turn. */
export interface SendItem {
  fp: string;
  /** Masked address for reports. */
  masked: string;
  build(): Outgoing;
  /** The recipient and its own row, for a builder that composes elsewhere (build-pool.ts). */
  recipient?: { address: string; row: Readonly<Record<string, string>> };
}

/** A composed message the guard passed, ready for the transport. */
export interface Checked {
  envelope: Envelope;
  raw: Buffer;
  messageId: string;
}

/** A group composed and guarded in order, up to and excluding the first message the guard refused. */
export interface BuiltGroup {
  messages: Checked[];
  violation?: Extract<GuardVerdict, { ok: false }>;
}

export interface PipelineDeps {
  transport: MailTransport;
  ledger: Ledger;
  guard: (raw: Buffer, envelope: Envelope, ctx: GuardContext) => GuardVerdict;
  /**
   * Composes and guards a group elsewhere (compose threads, build-pool.ts),
   * with the same guard on the same bytes; without it each item's build()
   * and `guard` run on this thread.
   */
  buildGroup?: (group: readonly SendItem[]) => Promise<BuiltGroup>;
  random?: () => number;
  now?: () => number;
  onProgress?: (p: Progress) => void;
  /** Told when the canary is out and the pause begins. */
  onCanaryPause?: (sent: number, pauseMs: number) => void;
}

export interface PipelineOptions {
  /** Messages per second (token bucket). */
  rate: number;
  /** Claimed recipients without an outcome (handed over or about to be), at most: the in-doubt window. */
  maxInFlight: number;
  /** Recipients per durable claim, at most (a group is also capped by the free room under maxInFlight). */
  batchSize: number;
  maxFailureRate: number;
  retry?: RetryPolicy;
  resendInDoubt: boolean;
  dryRun: boolean;
  canary?: { size: number; pauseMs: number };
  progressEveryMs?: number;
  /** Recipients this run is expected to handle (for ETA). */
  total: number;
}

/** Counts of this run, in the words of src/send/vocabulary.ts (the summary and `status` use the same). */
export interface Progress {
  /** Accepted by the relay (or written to the outbox) in this run. */
  sent: number;
  /** Dry run: composed and guarded, not handed over. */
  composed: number;
  /** Refused for good (5xx). */
  failed: number;
  /** Transient failures whose retries ran out: a re-run tries them again. */
  retryable: number;
  /** Claimed without an outcome: by an earlier run, or handed over without a final reply. */
  inDoubt: number;
  /** Settled by an earlier run (sent or failed permanently). */
  skipped: number;
  inFlight: number;
  total: number;
  ratePerSec: number;
  etaSec: number | null;
}

export interface FailedRecipient {
  fp: string;
  masked: string;
  permanent: boolean;
  code?: number;
  reason: string;
}

export interface InDoubtRecipient {
  fp: string;
  masked: string;
  /** "earlier-run": claimed by a run that ended without its outcome; "no-final-reply": this run's data went out, no reply came. */
  source: "earlier-run" | "no-final-reply";
  /** For "no-final-reply": the redacted transport message. */
  reason?: string;
}

export interface PipelineResult {
  outcome: "completed" | "halted" | "aborted";
  halt: Halt;
  sent: number;
  /** Dry run: messages composed and guarded, not handed over. */
  dryRunChecked: number;
  alreadySent: number;
  alreadyFailed: number;
  failed: FailedRecipient[];
  /**
   * Recipients claimed without an outcome (the ledger's "in doubt"): claimed by an earlier run and
   * skipped (no --resend-in-doubt), or handed over by this run without a final reply (InDoubt,
   * mail/port.ts: never retried, left claimed).
   */
  inDoubt: InDoubtRecipient[];
  /** Rows whose recipient was already in this run (the checks refuse duplicates; never mailed twice). */
  duplicates: number;
  guardViolation?: Extract<GuardVerdict, { ok: false }>;
}
