/**
 * `send --resend-in-doubt=FILE`: the Message-IDs that the relay's log shows
 * as delivered, one a line (angle brackets optional, blank lines and `#`
 * comments ignored). Recipients in doubt whose deterministic Message-ID is
 * listed are recorded as sent and not mailed again; the others in doubt are
 * resent (docs/design.md, "Sent at most once").
 */
import { UsageError } from "../errors.ts";

const MESSAGE_ID = /^<?([^\s<>@]+@[^\s<>@]+)>?$/;

/** Parses the file's text; a line that is not one Message-ID is a usage error naming its line. */
export function parseMessageIdList(text: string, file: string): Set<string> {
  const out = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = MESSAGE_ID.exec(line);
    if (!m) throw new UsageError(`${file}:${i + 1}: not a Message-ID (one a line, e.g. <0123abcd….2026-12-01-winter-update@corp.example>)`);
    out.add(m[1]!.toLowerCase());
  });
  return out;
}

/** The in-doubt recipients (fingerprints) whose Message-ID the relay confirmed, with that Message-ID. */
export function confirmedInDoubt(
  inDoubtFps: readonly string[],
  delivered: ReadonlySet<string>,
  messageIdOf: (fp: string) => string,
): Array<{ fp: string; messageId: string }> {
  const out: Array<{ fp: string; messageId: string }> = [];
  for (const fp of inDoubtFps) {
    const messageId = messageIdOf(fp);
    if (delivered.has(messageId.toLowerCase())) out.push({ fp, messageId });
  }
  return out;
}
