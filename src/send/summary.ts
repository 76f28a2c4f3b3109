/** The end-of-send summary and exit code (README.md, "Sending": exit codes). Masked addresses only. */
import type { PipelineResult } from "./pipeline.ts";

export function sendExitCode(r: PipelineResult): number {
  if (r.outcome === "aborted") return 4;
  if (r.outcome === "halted" && r.halt.cause?.kind === "signal") return r.halt.cause.signal === "SIGINT" ? 130 : 143;
  if (r.failed.length > 0 || r.inDoubt.length > 0) return 3;
  return 0;
}

export function formatSendSummary(r: PipelineResult, o: { id: string; shard: string; transport: string; dryRun: boolean }): string {
  const lines: string[] = [];
  const head = o.dryRun ? `dry run of ${o.id} (${o.shard})` : `send of ${o.id} (${o.shard}) via ${o.transport}`;
  lines.push(`${head}: ${r.outcome}`);
  if (o.dryRun) lines.push(`  composed and guarded: ${r.dryRunChecked} (nothing handed over)`);
  else lines.push(`  sent now: ${r.sent}`);
  if (r.alreadySent) lines.push(`  already sent earlier: ${r.alreadySent}`);
  if (r.alreadyFailed) lines.push(`  failed permanently earlier: ${r.alreadyFailed}`);
  if (r.duplicates) lines.push(`  rows repeating a recipient of this run, skipped: ${r.duplicates}`);
  const permanent = r.failed.filter((f) => f.permanent);
  const transient = r.failed.filter((f) => !f.permanent);
  if (permanent.length) {
    lines.push(`  failed permanently: ${permanent.length}`);
    for (const f of permanent.slice(0, 50)) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason}`);
    if (permanent.length > 50) lines.push(`    … and ${permanent.length - 50} more`);
  }
  if (transient.length) {
    lines.push(`  not delivered, retryable (re-run send): ${transient.length}`);
    for (const f of transient.slice(0, 20)) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason}`);
  }
  // In doubt: listed in full, by masked address and fingerprint (the ledger's key, state.ts inDoubt()).
  const earlier = r.inDoubt.filter((f) => f.source === "earlier-run");
  const noReply = r.inDoubt.filter((f) => f.source === "no-final-reply");
  if (earlier.length) {
    // Their number is bounded by what was in flight when a run died.
    lines.push(`  IN DOUBT (claimed by an earlier run that died; skipped — check the mail server's log, then re-run with --resend-in-doubt): ${earlier.length}`);
    for (const f of earlier) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}`);
  }
  if (noReply.length) {
    // Each is one connection lost after its data: few unless the relay is sick (the breaker counts them).
    lines.push(
      `  IN DOUBT (data handed over, no reply to its end — RFC 5321 §4.1.1.4: the server may have accepted it; not retried — check the mail server's log, then re-run with --resend-in-doubt): ${noReply.length}`,
    );
    for (const f of noReply) lines.push(`    ${f.masked}  ${f.fp.slice(0, 12)}  ${f.reason ?? ""}`.trimEnd());
  }
  if (r.halt.cause?.kind === "abort") lines.push(`  ABORTED: ${r.halt.cause.reason}`);
  if (r.halt.cause?.kind === "signal") lines.push(`  HALTED by ${r.halt.cause.signal}: re-run send to resume`);
  return `${lines.join("\n")}\n`;
}
