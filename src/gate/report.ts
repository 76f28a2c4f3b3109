/**
 * The gate's result for people: a one-line status ("2 of 3 approvals: waiting
 * for release") for checks and PR titles, and a per-stage report naming who
 * approved, when, on which commit, and why every other review did not count
 * (docs/design.md, "The approval gate": the report names, per stage, ...). Pure;
 * plain ASCII text, safe for a terminal, a log and a Markdown code block.
 */
import { at, shortSha } from "./identity.ts";
import type { GateResult } from "./result.ts";

export function gateStatusLine(r: GateResult): string {
  const total = r.stages.length;
  const done = r.stages.filter((s) => s.approval !== undefined).length;
  const counts = `${done} of ${total} approvals`;
  if (r.approved) {
    return `approved: ${counts} (${r.stages.map((s) => `${s.name} ${at(s.approval!.login)}`).join(", ")})`;
  }
  const first = r.problems[0];
  if (first !== undefined) {
    const more = r.problems.length > 1 ? ` (+${r.problems.length - 1} more)` : "";
    return `not approved: ${first.code}${more}; ${counts}`;
  }
  const waiting = r.stages.filter((s) => s.approval === undefined).map((s) => s.name);
  return `${counts}: waiting for ${waiting.join(", ")}`;
}

export function formatGateReport(r: GateResult): string {
  const lines: string[] = [];
  const head = r.pr === null ? "no pull request" : `pull request #${r.pr}`;
  const commits = [
    r.headSha ? `head ${shortSha(r.headSha)}` : undefined,
    r.mergeSha ? `merged as ${shortSha(r.mergeSha)}` : r.mode === "open" ? "open" : undefined,
  ].filter((x) => x !== undefined);
  lines.push(`Approval gate: ${head}${commits.length ? ` (${commits.join(", ")})` : ""}${r.author ? `, opened by ${at(r.author)}` : ""}`);
  lines.push(`Result: ${r.approved ? "APPROVED" : "NOT APPROVED"} - ${gateStatusLine(r)}`);
  if (r.lastPushAt) lines.push(`Last push to the head: ${r.lastPushAt}`);
  lines.push("");

  lines.push(`Stages${r.ordered ? " (approved in this order)" : ""}:`);
  const width = Math.max(...r.stages.map((s) => s.name.length), 5);
  for (const s of r.stages) {
    const name = s.name.padEnd(width);
    if (s.approval) {
      const a = s.approval;
      lines.push(`  ${name}  approved by ${at(a.login)} in review ${a.reviewId} on ${shortSha(a.commitId)} at ${a.submittedAt}`);
    } else {
      lines.push(`  ${name}  ${s.waiting ?? "waiting"}`);
    }
  }

  if (r.notCounted.length > 0) {
    lines.push("", "Reviews that do not count:");
    for (const n of r.notCounted) {
      const stage = n.stage ? ` for stage ${n.stage}` : "";
      lines.push(`  ${at(n.login)} review ${n.reviewId}${stage}: ${n.text} [${n.reason}]`);
    }
  }
  if (r.problems.length > 0) {
    lines.push("", "Problems (each one refuses the send):");
    for (const p of r.problems) lines.push(`  [${p.code}] ${p.text}`);
  }
  if (r.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const w of r.warnings) lines.push(`  [${w.code}] ${w.text}`);
  }
  return `${lines.join("\n")}\n`;
}
