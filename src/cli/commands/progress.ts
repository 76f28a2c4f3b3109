/** The progress line (every few seconds on stderr): counts, rate, ETA; a bar on a terminal. */
import type { Progress } from "../../send/pipeline.ts";
import { WORDS } from "../../send/vocabulary.ts";

export function formatProgress(p: Progress, tty: boolean, dryRun = false): string {
  const done = p.sent + p.composed + p.failed + p.retryable + p.inDoubt + p.skipped;
  const pct = p.total > 0 ? Math.min(100, (done / p.total) * 100) : 100;
  const eta = p.etaSec === null ? "?" : p.etaSec < 90 ? `${Math.round(p.etaSec)}s` : `${Math.round(p.etaSec / 60)}m`;
  // A dry run hands nothing over: it says "composed", never "sent".
  const head = dryRun ? `${WORDS.composed} ${p.composed}` : `${WORDS.sent} ${p.sent}  ${WORDS.failed} ${p.failed}  ${WORDS.retryable} ${p.retryable}`;
  const text = `${head}  ${WORDS.inDoubt} ${p.inDoubt}  ${WORDS.skipped} ${p.skipped}  of ${p.total}  ${p.ratePerSec.toFixed(0)} msg/s  ETA ${eta}`;
  if (!tty) return `${text}\n`;
  const width = 24;
  const filled = Math.round((pct / 100) * width);
  return `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${text}`;
}
