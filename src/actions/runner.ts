/**
 * The one output path from the Actions steps to the runner (docs/design.md,
 * "Layers"): @actions/core writes every step output, annotation and job
 * summary — its GITHUB_OUTPUT heredoc with a random delimiter, its escaping
 * of workflow commands (`%`, CR and LF in the message, also `:` and `,` in a
 * property) — so no step writes runner syntax of its own. What this module
 * adds is the address fence: every output, annotation and title passes
 * `redact` first, so nothing a step hands the runner carries an address in
 * full.
 *
 * @actions/core reads GITHUB_OUTPUT and GITHUB_STEP_SUMMARY from process.env
 * and writes commands to process.stdout: the step's own process (bin.ts),
 * whose environment is the one ActionsEnv was read from. Outside Actions
 * (no GITHUB_OUTPUT) core prints the outputs as `::set-output` lines instead.
 */
import * as core from "@actions/core";
import { redact } from "../address/redact.ts";

export type AnnotationLevel = "error" | "warning" | "notice";

/** One `::error title=…::message` line on stdout, where the runner reads commands. */
export function annotate(level: AnnotationLevel, message: string, title?: string): void {
  const props: core.AnnotationProperties = title ? { title: redact(title) } : {};
  const text = redact(message);
  if (level === "error") core.error(text, props);
  else if (level === "warning") core.warning(text, props);
  else core.notice(text, props);
}

/** The step's outputs (GITHUB_OUTPUT), each value redacted. */
export function setOutputs(outputs: Record<string, string | number | boolean>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, redact(String(value)));
}

/**
 * Appends Markdown to the job summary, a blank line after it; without
 * GITHUB_STEP_SUMMARY (a local run) it is skipped. Not redacted here: the
 * callers' Markdown is built from validated, address-free data (an audit
 * record's Message-IDs would be mangled by `redact`, which takes them for
 * addresses). core.summary is a process-wide buffer: emptied whatever happens.
 */
export async function appendSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  try {
    await core.summary.addRaw(`${markdown.replace(/\n*$/, "")}\n`, true).write();
  } finally {
    core.summary.emptyBuffer();
  }
}
