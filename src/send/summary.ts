/**
 * The end-of-send summary and exit code (README.md, "Sending": exit codes). Masked
 * addresses only. The words are those of the progress line and `status`
 * (vocabulary.ts).
 */
import type { InDoubtRecipient, PipelineResult } from "./pipeline.ts";
import { WORDS, type Destination } from "./vocabulary.ts";

/** `send` stopped by its --time-budget with recipients left: run it again to continue (EX_TEMPFAIL, sysexits.h). */
export const EXIT_CONTINUE = 75;

export function sendExitCode(r: PipelineResult): number {
  if (r.outcome === "aborted") return 4;
  if (r.outcome === "halted" && r.halt.cause?.kind === "signal") return r.halt.cause.signal === "SIGINT" ? 130 : 143;
  // A budget spent before a single message would make a continuation that never moves on.
  if (r.outcome === "halted" && r.halt.cause?.kind === "budget") return madeProgress(r) ? EXIT_CONTINUE : 1;
  if (r.failed.length > 0 || r.inDoubt.length > 0) return 3;
  return 0;
}

export interface SummaryContext {
  id: string;
  shard: string;
  transport: string;
  dryRun: boolean;
  /** Where the messages went (a trial's outbox or the relay); absent for a dry run. */
  destination?: Destination;
  /** The deterministic Message-ID of a recipient (by fingerprint): what a relay's log shows. */
  messageIdOf?: (fp: string) => string;
  /** In-doubt recipients the operator's file confirmed delivered: recorded as sent, not resent. */
  confirmedDelivered?: number;
}

export function formatSendSummary(r: PipelineResult, o: SummaryContext): string {
  const lines: string[] = [];
  const where = o.destination === "outbox" ? " (trial: outbox folder, not a relay)" : "";
  const head = o.dryRun ? `dry run of ${o.id} (${o.shard})` : `send of ${o.id} (${o.shard}) via ${o.transport}${where}`;
  lines.push(`${head}: ${r.outcome}`);
  if (o.dryRun) lines.push(`  ${WORDS.composed} and guarded: ${r.dryRunChecked} (nothing handed over)`);
  else lines.push(`  ${WORDS.sent} now: ${r.sent}`);
  if (o.confirmedDelivered) lines.push(`  ${WORDS.inDoubt} before, confirmed delivered by your file, recorded as ${WORDS.sent}, not resent: ${o.confirmedDelivered}`);
  if (r.alreadySent) lines.push(`  ${WORDS.skipped}, already sent earlier: ${r.alreadySent}`);
  if (r.alreadyFailed) lines.push(`  ${WORDS.skipped}, ${WORDS.failed} earlier: ${r.alreadyFailed}`);
  if (r.duplicates) lines.push(`  rows repeating a recipient of this run, skipped: ${r.duplicates}`);
  const permanent = r.failed.filter((f) => f.permanent);
  const transient = r.failed.filter((f) => !f.permanent);
  if (permanent.length) {
    lines.push(`  ${WORDS.failed}: ${permanent.length}`);
    for (const f of permanent.slice(0, 50)) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason}`);
    if (permanent.length > 50) lines.push(`    … and ${permanent.length - 50} more`);
  }
  if (transient.length) {
    lines.push(`  ${WORDS.retryable} (not delivered; re-run send to try again): ${transient.length}`);
    for (const f of transient.slice(0, 20)) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason}`);
  }
  // In doubt: listed in full, by Message-ID (what the relay's log shows), masked address and fingerprint.
  const earlier = r.inDoubt.filter((f) => f.source === "earlier-run");
  const noReply = r.inDoubt.filter((f) => f.source === "no-final-reply");
  const how = "look each Message-ID up in the relay's log, put those it delivered in a file (one a line), then re-run with --resend-in-doubt=FILE";
  if (earlier.length) {
    // Their number is bounded by what was in flight when a run died.
    lines.push(`  IN DOUBT (claimed by an earlier run that died; skipped — ${how}): ${earlier.length}`);
    for (const f of earlier) lines.push(inDoubtLine(f, o.messageIdOf));
  }
  if (noReply.length) {
    // Each is one connection lost after its data: few unless the relay is sick (the breaker counts them).
    lines.push(
      `  IN DOUBT (data handed over, no reply to its end — RFC 5321 §4.1.1.4: the server may have accepted it; not retried — ${how}): ${noReply.length}`,
    );
    for (const f of noReply) lines.push(inDoubtLine(f, o.messageIdOf));
  }
  const cause = r.halt.cause;
  if (cause?.kind === "abort") lines.push(`  ABORTED: ${cause.reason}`);
  if (cause?.kind === "signal") lines.push(`  HALTED by ${cause.signal}: re-run send to resume`);
  if (cause?.kind === "budget" && r.outcome === "halted") {
    lines.push(
      madeProgress(r)
        ? `  STOPPED: the time budget of ${cause.seconds} s is spent; run the same send again to continue (exit ${EXIT_CONTINUE})`
        : `  STOPPED: the time budget of ${cause.seconds} s was spent before the first message; give it more time (exit 1)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function madeProgress(r: PipelineResult): boolean {
  return r.sent + r.failed.length + r.dryRunChecked > 0;
}

function inDoubtLine(f: InDoubtRecipient, messageIdOf?: (fp: string) => string): string {
  const mid = messageIdOf ? `${messageIdOf(f.fp)}  ` : "";
  return `    ${mid}${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason ?? ""}`.trimEnd();
}
