/** The progress line (every few seconds on stderr): counts, rate, ETA; a bar on a terminal. */
import type { Progress } from "../../send/pipeline.ts";

export function formatProgress(p: Progress, tty: boolean): string {
  const done = p.sent + p.failed + p.skipped;
  const pct = p.total > 0 ? Math.min(100, (done / p.total) * 100) : 100;
  const eta = p.etaSec === null ? "?" : p.etaSec < 90 ? `${Math.round(p.etaSec)}s` : `${Math.round(p.etaSec / 60)}m`;
  const text = `sent ${p.sent}  failed ${p.failed}  skipped ${p.skipped}  of ${p.total}  ${p.ratePerSec.toFixed(0)} msg/s  ETA ${eta}`;
  if (!tty) return `${text}\n`;
  const width = 24;
  const filled = Math.round((pct / 100) * width);
  return `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${text}`;
}
