/**
 * One word for each state of a recipient, used by the progress line, the
 * end-of-send summary and `status` alike (docs/design.md, "Scheduling and
 * continuation"): an operator who reads "retryable" in one place finds the
 * same number under the same word in the others.
 *
 *   sent                the relay accepted it (or, for a trial, it was written to the outbox)
 *   composed            dry run: composed and guarded, handed to nobody
 *   failed permanently  the relay refused it for good (5xx); never retried
 *   retryable           transient failures whose retries ran out; a re-run tries again
 *   in doubt            claimed without an outcome; skipped until --resend-in-doubt
 *   skipped             settled by an earlier run (sent or failed permanently)
 *   remaining           not yet tried
 */
export const WORDS = {
  sent: "sent",
  composed: "composed",
  failed: "failed permanently",
  retryable: "retryable",
  inDoubt: "in doubt",
  skipped: "skipped",
  remaining: "remaining",
} as const;

/** Where the messages of a ledger went: a trial's outbox folder, or the relay of a real send. */
export type Destination = "outbox" | "relay";
