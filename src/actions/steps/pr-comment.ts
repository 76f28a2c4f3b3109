/**
 * `step pr-comment`: the sticky manifest comment on the pull request — what
 * approvers compare with the approval copy: the newsletter id, subject, list,
 * counts, every input's sha256, the digest, the head commit and the check
 * result. One comment per pull request (hidden marker), updated on every
 * push, never duplicated; a comment by anyone else carrying the marker is
 * left alone.
 *
 * It runs the same checks as `check` and builds the manifest as `manifest`
 * does (one pass over the inputs). Never an address in it: findings are
 * masked by the checks, and everything is passed through `redact` and
 * Markdown-escaped besides.
 *
 * Needs: NEWSLETTER_DIR, GITHUB_TOKEN, GITHUB_REPOSITORY, the pull request
 * (event or NEWSLETTER_PR). Optional: CHECK_OUTCOME (the check step's outcome).
 * Outputs: comment_id, comment_url, digest, checks_ok.
 */
import { redact } from "../../address/redact.ts";
import { checkNewsletters } from "../../check/check-newsletters.ts";
import type { Finding } from "../../findings/finding.ts";
import { commandDeps, visibilityOf } from "../../wiring/deps.ts";
import { buildManifest, type Manifest } from "../../manifest/manifest.ts";
import { upsertComment } from "../comments.ts";
import { githubClient, mdCode, mdText, type StepContext } from "../context.ts";
import { need } from "../env.ts";
import { appendSummary, setOutputs } from "../runner.ts";

export const MANIFEST_MARKER = "<!-- newsletter-manifest -->";
const MAX_FINDINGS = 20;

export function renderManifestComment(o: {
  dir: string;
  manifest: Manifest | null;
  findings: readonly Finding[];
  headSha: string | null;
  checkOutcome: string | null;
}): string {
  const errors = o.findings.filter((f) => f.severity === "error");
  const warnings = o.findings.filter((f) => f.severity === "warning");
  const ok = errors.length === 0 && (o.manifest?.checks_ok ?? false);
  const out: string[] = [MANIFEST_MARKER];
  const id = o.manifest?.id ?? o.dir.split("/").at(-1) ?? o.dir;
  out.push(`### Newsletter ${mdCode(id)}: ${ok ? "✅ checks passed" : `❌ ${errors.length} error${errors.length === 1 ? "" : "s"}`}${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""}`);
  out.push("");
  const m = o.manifest;
  if (m) {
    out.push("| | |", "| --- | --- |");
    out.push(`| Subject | ${mdText(redact(m.subject))} |`);
    out.push(`| List | ${mdCode(m.recipients.list)} (${mdCode(m.recipients.file)}) |`);
    out.push(`| Recipients | ${m.recipients.count.toLocaleString("en-US")} to send, ${m.recipients.suppressed.toLocaleString("en-US")} suppressed, ${storeNote(m.recipients)}${m.recipients.rows.toLocaleString("en-US")} rows |`);
    out.push(`| List sha256 | ${mdCode(m.recipients.sha256)} |`);
    out.push(`| **Digest** | ${mdCode(m.digest)} |`);
    if (o.headSha) out.push(`| Head commit | ${mdCode(o.headSha)} |`);
    out.push("");
    out.push("<details><summary>Inputs covered by the digest</summary>", "", "| Role | File | sha256 |", "| --- | --- | --- |");
    for (const i of m.inputs) out.push(`| ${mdText(i.role)} | ${mdCode(redact(i.path))} | ${i.sha256 ? mdCode(i.sha256) : "—"} |`);
    out.push("", "</details>", "");
    out.push("The approval copy shows the same digest: approve only when they match. The send refuses any other digest.");
  } else {
    out.push("_No manifest: an input the digest covers is missing or unreadable._");
  }
  if (o.checkOutcome) out.push("", `Check step: ${mdCode(o.checkOutcome)}.`);
  if (o.findings.length) {
    out.push("", "| Severity | Rule | Where | Finding |", "| --- | --- | --- | --- |");
    for (const f of o.findings.slice(0, MAX_FINDINGS)) {
      out.push(`| ${f.severity} | ${mdCode(f.rule)} | ${mdCode(`${redact(f.file)}:${f.line}`)} | ${mdText(redact(f.message))} |`);
    }
    if (o.findings.length > MAX_FINDINGS) out.push("", `…and ${o.findings.length - MAX_FINDINGS} more: see the check step's annotations.`);
  }
  out.push("");
  return out.join("\n");
}

export async function runPrComment(ctx: StepContext): Promise<number> {
  const { env, io } = ctx;
  const dir = need(env.inputs.dir, "NEWSLETTER_DIR", "pr-comment comments the manifest of one newsletter");
  const pr = need(env.inputs.pr, "NEWSLETTER_PR", "pr-comment needs the pull request to comment on");
  const client = githubClient(ctx, "pr-comment writes a comment on the pull request");

  const outcome = await checkNewsletters(commandDeps(env.workspace, io, visibilityOf(env.event)), [dir]);
  const checked = outcome.newsletters[0];
  const manifest = checked ? buildManifest(checked) : null;
  const headSha = env.event?.pull_request?.head.sha ?? null;
  const body = renderManifestComment({ dir, manifest, findings: outcome.report.findings, headSha, checkOutcome: env.inputs.checkOutcome });
  const r = await upsertComment(client, pr, MANIFEST_MARKER, body, env.inputs.commentAuthors);
  io.out(`Manifest comment ${r.action} on #${pr}: ${r.url}\n`);
  const checksOk = outcome.report.ok && manifest !== null;
  setOutputs({
    comment_id: r.id,
    comment_url: r.url,
    digest: checksOk && manifest ? manifest.digest : "",
    checks_ok: checksOk,
  });
  await appendSummary(`Manifest comment ${r.action}: [#${pr}](${r.url})`);
  return 0;
}

/** The suppression store's part of the count (manifest.ts), when it removes someone or the send may remove more. */
function storeNote(r: { suppressed_by_store?: number; store_unmatched?: number }): string {
  const n = r.suppressed_by_store ?? 0;
  const u = r.store_unmatched ?? 0;
  if (n === 0 && u === 0) return "";
  return `${n.toLocaleString("en-US")} by the suppression store${u > 0 ? ` (the send may remove up to ${u.toLocaleString("en-US")} more)` : ""}, `;
}
