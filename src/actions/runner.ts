/**
 * The runner's files and workflow commands, written the way @actions/core
 * does (GITHUB_OUTPUT with a random heredoc delimiter for multi-line values;
 * `::error::` with %, CR and LF escaped), but through our own code so every
 * value passes `redact` first: nothing a step writes to the runner can carry
 * an address in full.
 */
import { randomUUID } from "node:crypto";
import { appendFile } from "node:fs/promises";
import { redact } from "../address/redact.ts";
import type { Io } from "../runtime/io.ts";

/** Workflow command data: `%`, CR and LF escaped (@actions/core `escapeData`). */
export function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Workflow command property values also escape `:` and `,` (@actions/core `escapeProperty`). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

export type AnnotationLevel = "error" | "warning" | "notice";

/** One `::error title=...::message` line (on stdout, where the runner reads commands). */
export function annotate(io: Io, level: AnnotationLevel, message: string, title?: string): void {
  const props = title ? ` title=${escapeProperty(redact(title))}` : "";
  io.out(`::${level}${props}::${escapeData(redact(message))}\n`);
}

/** `name=value` lines for GITHUB_OUTPUT; a value with a newline uses a heredoc with a delimiter it cannot contain. */
export function formatOutputs(outputs: Record<string, string | number | boolean>): string {
  let text = "";
  for (const [name, raw] of Object.entries(outputs)) {
    const value = redact(String(raw));
    if (/[\r\n]/.test(value)) {
      let delimiter = `ghadelimiter_${randomUUID()}`;
      while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomUUID()}`;
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    } else {
      text += `${name}=${value}\n`;
    }
  }
  return text;
}

/** Appends outputs to GITHUB_OUTPUT; without one (a local run) prints them instead. */
export async function setOutputs(io: Io, file: string | null, outputs: Record<string, string | number | boolean>): Promise<void> {
  const text = formatOutputs(outputs);
  if (file === null) {
    io.err(`outputs (GITHUB_OUTPUT is not set):\n${text}`);
    return;
  }
  await appendFile(file, text, "utf8");
}

/**
 * Appends Markdown to the job summary; without GITHUB_STEP_SUMMARY (a local
 * run) it is skipped. Not redacted here: the callers' Markdown is built from
 * validated, address-free data (an audit record's Message-IDs would be
 * mangled by `redact`, which takes them for addresses).
 */
export async function appendSummary(file: string | null, markdown: string): Promise<void> {
  if (file === null) return;
  await appendFile(file, `${markdown.replace(/\n*$/, "")}\n\n`, "utf8");
}
