/**
 * `step audit`: after the send (`if: always()`), the audit record of this
 * newsletter and shard (docs/design.md, "The audit record"):
 *
 *   - the send, from the ledger on the state branch (counts, start, end,
 *     outcome completed / halted / aborted; a run that left no end record
 *     was killed: halted, with that said), or `send: null` when none began;
 *   - the approvals, from the gate's JSON (`gate --format json`, passed by
 *     the resolve job as NEWSLETTER_GATE_JSON or in $RUNNER_TEMP/gate.json;
 *     without either the gate is asked again, for the commit being sent);
 *   - the approval copies, from the approval-record comment on the pull
 *     request (ours, for the approved head, with the sent digest) — else
 *     `approval_copies: null` and a warning in the record;
 *   - PR, head and merge SHAs, digest, tool version.
 *
 * It is validated, written to `audit/<id>/<shard>.json` on the state branch
 * and pushed (together with any ledger lines a killed send left unpushed in
 * the worktree: this step is also the job's last checkpoint), commented on
 * the pull request (one comment per newsletter and shard: a re-run updates
 * it), appended to the job summary, and its figures set as outputs.
 *
 * Needs: NEWSLETTER_DIR, NEWSLETTER_DIGEST, GITHUB_TOKEN, GITHUB_REPOSITORY,
 * the state branch worktree (NEWSLETTER_STATE_DIR). Optional: NEWSLETTER_PR,
 * NEWSLETTER_SHA, NEWSLETTER_SHARD, SEND_OUTCOME, NEWSLETTER_GATE_JSON.
 * Outputs: record_path, outcome, total, sent, failed, in_doubt, skipped,
 * approved, comment_url.
 */
import { readFile } from "node:fs/promises";
import { auditMarker, auditShard, auditText, renderAuditMarkdown, validateAuditRecord, writeAuditRecord } from "../../audit/record.ts";
import type { AuditApproval, AuditRecord, AuditSend } from "../../audit/schema.ts";
import { gateFromEnv } from "../../wiring/github.ts";
import { TOOL_VERSION } from "../../runtime/version.ts";
import { eachLedgerRecord, LedgerCorruptError, parseLedger, type BeginRecordV1, type EndRecord, type ReleaseRecord } from "../../ledger/records.ts";
import { countLedger, foldLedgerText } from "../../ledger/state.ts";
import { STATE_BOT } from "../../state/from-env.ts";
import { openStateBranch, type StateBranch } from "../../state/git-branch.ts";
import { GitCommandError } from "../../state/errors.ts";
import { stateLedgerPath } from "../../state/git-ledger-store.ts";
import { runGit } from "../../state/git-run.ts";
import { listComments, upsertComment } from "../comments.ts";
import { githubClient, type StepContext } from "../context.ts";
import { need, newsletterIdOf } from "../env.ts";
import { StepInputError } from "../errors.ts";
import { appendSummary, setOutputs } from "../runner.ts";
import { approvalCopiesFromComments } from "./approval-record.ts";

/** The parts of `gate --format json` the record uses (src/gate/result.ts). */
export interface GateJson {
  readonly approved: boolean;
  readonly mode?: string;
  readonly pr: number | null;
  readonly headSha: string | null;
  readonly mergeSha?: string;
  readonly stages: ReadonlyArray<{ name: string; approval?: { login: string; reviewId: number; commitId: string; submittedAt: string } }>;
  readonly warnings: ReadonlyArray<{ code: string; text: string }>;
  readonly problems: ReadonlyArray<{ code: string; text: string }>;
}

export function parseGateJson(text: string, source: string): GateJson {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new StepInputError(`${source} is not the JSON of \`gate --format json\``);
  }
  const g = v as Partial<GateJson> | null;
  if (
    typeof g !== "object" || g === null || typeof g.approved !== "boolean" || !Array.isArray(g.stages) ||
    !Array.isArray(g.warnings) || !Array.isArray(g.problems) || (g.pr !== null && !Number.isSafeInteger(g.pr)) ||
    (g.headSha !== null && typeof g.headSha !== "string")
  ) {
    throw new StepInputError(`${source} is not the JSON of \`gate --format json\` (approved, pr, headSha, stages, warnings, problems)`);
  }
  return g as GateJson;
}

/** The time of the ledger's last whole record (a torn last line is ignored, as the ledger does). */
function lastRecordAt(text: string, file: string): string | null {
  let end = text.lastIndexOf("\n");
  while (end > 0 && text[end - 1] === "\n") end--; // blank lines are no records
  if (end <= 0) return null;
  const start = text.lastIndexOf("\n", end - 1) + 1;
  return parseLedger(text.slice(start, end + 1), file)[0]?.at ?? null;
}

/** The send as the ledger on the state branch tells it; null when no send began. */
export function sendFromLedger(text: string | null, shard: string, file: string): AuditSend | null {
  if (text === null || text.trim() === "") return null;
  const state = foldLedgerText(text, file);
  const begin: BeginRecordV1 | null = state.begin;
  if (!begin) return null;
  let lastAt = lastRecordAt(text, file) ?? begin.at;
  if (lastAt < begin.at) lastAt = begin.at;
  const end: EndRecord | undefined = state.ends.at(-1);
  const c = countLedger(state);
  const total = begin.count;
  const counts = {
    total,
    sent: c.sent,
    failed: c.failed,
    in_doubt: c.inDoubt,
    // Not sent in any run yet: never reached, or a transient failure to try again.
    skipped: Math.max(0, total - c.sent - c.failed - c.inDoubt),
  };
  let outcome: AuditSend["outcome"];
  let detail: string | undefined;
  if (end) {
    outcome = end.outcome;
    if (end.detail) detail = auditText(end.detail);
    // A run resumed after a killed one may have ended later than its end record says nothing about.
    if (end.at > lastAt) lastAt = end.at;
  } else {
    outcome = "halted";
    detail = "the last run left no end record: it was killed or its runner was lost; re-run the send to resume (recipients in doubt are never resent automatically)";
  }
  if (outcome === "completed" && (c.inDoubt > 0 || counts.skipped > 0)) {
    detail ??= `completed with ${c.inDoubt} in doubt and ${counts.skipped} not sent`;
  }
  return {
    shard,
    started_at: begin.at,
    ended_at: end && end.at >= lastAt ? end.at : lastAt,
    outcome,
    ...(detail ? { detail } : {}),
    ...(begin.approval ? { approval: begin.approval } : {}),
    counts,
  };
}

export function approvalsFromGate(g: GateJson): AuditApproval[] {
  const out: AuditApproval[] = [];
  for (const s of g.stages) {
    const a = s.approval;
    if (!a) continue;
    out.push({ stage: s.name, login: a.login, review_id: a.reviewId, commit: a.commitId, submitted_at: a.submittedAt });
  }
  return out;
}

async function gateResult(ctx: StepContext, sha: string | null): Promise<{ gate: GateJson; source: string }> {
  const { env } = ctx;
  if (env.inputs.gateJson !== null) return { gate: parseGateJson(env.inputs.gateJson, "NEWSLETTER_GATE_JSON"), source: "NEWSLETTER_GATE_JSON" };
  if (env.inputs.gateFile !== null) {
    const text = await readFile(env.inputs.gateFile, "utf8").catch(() => null);
    if (text !== null && text.trim() !== "") return { gate: parseGateJson(text, env.inputs.gateFile), source: env.inputs.gateFile };
  }
  // Neither: ask the gate now, for the commit that was sent.
  const commit = need(sha, "NEWSLETTER_SHA", "without the gate's JSON the audit step runs the gate for the commit that was sent");
  const { result } = await gateFromEnv(env.raw, { sha: commit });
  return { gate: result as unknown as GateJson, source: `the gate, run again for ${commit.slice(0, 12)}` };
}

function baseRefOf(ctx: StepContext): string {
  const e = ctx.env.event;
  if (e?.pull_request?.base.ref) return e.pull_request.base.ref;
  if (e?.repository?.default_branch) return e.repository.default_branch;
  if (e?.ref?.startsWith("refs/heads/")) return e.ref.slice("refs/heads/".length);
  return need(null as string | null, "GITHUB_EVENT_PATH", "the audit record names the branch the pull request was merged into (the event's repository.default_branch)");
}

/** The file as the remote branch holds it ("" when it does not), after openStateBranch fetched the tip; null when that cannot be told. */
export async function pushedText(state: Pick<StateBranch, "dir" | "branch">, file: string): Promise<string | null> {
  try {
    return (await runGit(["show", `refs/remotes/origin/${state.branch}:${file}`], { cwd: state.dir })).stdout;
  } catch (e) {
    // The branch exists but not the file: nothing of this ledger was pushed.
    if (e instanceof GitCommandError && /does not exist in|exists on disk, but not in/.test(e.output)) return "";
    return null; // cannot tell: release nothing
  }
}

/**
 * A send claims a group durably — on the state branch, a push — before it
 * hands the group to the mail server (src/send/pipeline.ts). So a claim that
 * is in the worktree but never reached the remote is a group the killed send
 * never sent: its recipients are released (the ledger's `release` record),
 * not left in doubt — unless the remote already shows them claimed by an
 * earlier run (in doubt they stay). A torn last line (the kill landed mid-write) is cut
 * first, as the ledger itself does on open. Returns how many were released.
 */
export async function releaseUnpushedClaims(
  state: Pick<StateBranch, "read" | "write" | "append">,
  file: string,
  remote: string | null,
  now: () => Date = () => new Date(),
): Promise<number> {
  if (remote === null) return 0;
  let local = (await state.read(file)) ?? "";
  if (!local.startsWith(remote) || local.length === remote.length) return 0;
  if (!local.endsWith("\n")) {
    local = local.slice(0, local.lastIndexOf("\n") + 1);
    if (local.length < remote.length) return 0;
    await state.write(file, local);
  }
  const claimed = new Set<string>();
  const settled = new Set<string>();
  try {
    eachLedgerRecord(local.slice(remote.length), file, (rec) => {
      if (rec.t === "claim") for (const fp of rec.fps) claimed.add(fp);
      else if (rec.t === "sent" || rec.t === "fail") settled.add(rec.fp);
      else if (rec.t === "release") for (const fp of rec.fps) settled.add(fp);
    });
  } catch (e) {
    if (e instanceof LedgerCorruptError) return 0; // not a ledger the send would read: it refuses it, and nothing is released
    throw e;
  }
  // Only recipients the remote knows nothing of (or as a transient failure, safe to retry): one
  // the remote shows claimed is in doubt from an earlier run, and a re-claim that never got
  // pushed (a `--resend-in-doubt` run killed early) must not make it look unsent.
  let before: { get(fp: string): string | undefined };
  try {
    before = foldLedgerText(remote, file).recipients;
  } catch {
    return 0;
  }
  const fps = [...claimed].filter((fp) => !settled.has(fp) && (before.get(fp) === undefined || before.get(fp) === "failed-transient"));
  if (fps.length === 0) return 0;
  const release: ReleaseRecord = { t: "release", fps, at: now().toISOString() };
  await state.append(file, `${JSON.stringify(release)}\n`);
  return fps.length;
}

/** The push and checkout of the state branch, opened once (its worktree is NEWSLETTER_STATE_DIR). */
async function openState(ctx: StepContext): Promise<StateBranch> {
  const { inputs } = ctx.env;
  return openStateBranch({ remote: inputs.stateRemote ?? "origin", branch: inputs.stateBranch, dir: inputs.stateDir, author: STATE_BOT });
}

export async function runAudit(ctx: StepContext): Promise<number> {
  const { env, io } = ctx;
  const dir = need(env.inputs.dir, "NEWSLETTER_DIR", "the audit record is of one newsletter");
  const digest = need(env.inputs.digest, "NEWSLETTER_DIGEST", "the audit record holds the digest that was approved and sent");
  const repository = need(env.repository, "GITHUB_REPOSITORY", "the audit record names the repository");
  const client = githubClient(ctx, "the audit step reads and writes comments on the pull request");
  const id = newsletterIdOf(dir);
  const shard = env.inputs.shard ? `${env.inputs.shard.index}-of-${env.inputs.shard.count}` : "all";
  const mergeSha = env.inputs.sha ?? (env.event?.after && /^[0-9a-f]{40}$/.test(env.event.after) ? env.event.after : null);

  // 1. The state branch first, and whatever the send left unpushed in its worktree goes up at once:
  //    whatever fails below, the ledger is safe on the remote.
  const state = await openState(ctx);
  const ledgerFile = stateLedgerPath(id, shard);
  if (state.recovered.kept.length) io.out(`Ledger lines not yet on ${state.branch}: ${state.recovered.kept.join(", ")}\n`);
  if (state.recovered.kept.includes(ledgerFile)) {
    const released = await releaseUnpushedClaims(state, ledgerFile, await pushedText(state, ledgerFile));
    if (released > 0) {
      io.out(`Released ${released} recipient(s) the killed send had claimed but never handed to the mail server (their claim never reached ${state.branch}): a re-run sends them.\n`);
    }
  }
  if (state.hasPending()) {
    await state.commitAndPush(`ledger ${id} ${shard}: final checkpoint (run ${env.runId ?? "local"})`);
    io.out(`Pushed the rest of the ledger to ${state.branch}.\n`);
  }
  await state.refresh();
  const send = sendFromLedger(await state.read(ledgerFile), shard, ledgerFile);

  // 2. The gate's verdict and approvals.
  const { gate, source } = await gateResult(ctx, mergeSha);
  const pr = env.inputs.pr ?? gate.pr;
  if (pr === null) throw new StepInputError("the audit record needs the pull request: NEWSLETTER_PR is not set and the gate found none");
  const headSha = gate.headSha;
  if (headSha === null || !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(headSha)) {
    throw new StepInputError(`the gate's JSON (${source}) names no head commit: the audit record cannot say what was approved`);
  }
  const warnings = gate.warnings.map((w) => auditText(`${w.code}: ${w.text}`));
  for (const p of gate.problems) warnings.push(auditText(`problem ${p.code}: ${p.text}`));

  // 3. The approval copies, from our comment for the approved head.
  const comments = await listComments(client, pr);
  const copies = approvalCopiesFromComments(comments, { id, headSha, digest, authors: env.inputs.commentAuthors });
  if (copies.warning) warnings.push(auditText(`audit: ${copies.warning}`));

  const record: AuditRecord = validateAuditRecord({
    version: 1,
    newsletter: id,
    repository,
    pr: {
      number: pr,
      url: `${env.serverUrl}/${repository}/pull/${pr}`,
      head_sha: headSha,
      ...((gate.mergeSha ?? mergeSha) ? { merge_sha: gate.mergeSha ?? mergeSha } : {}),
      base_ref: baseRefOf(ctx),
    },
    digest,
    approvals: approvalsFromGate(gate),
    approval_copies: copies.record ? { at: copies.record.at, message_ids: [...copies.record.message_ids] } : null,
    send,
    gate: { approved: gate.approved, warnings: warnings.slice(0, 100) },
    tool_version: TOOL_VERSION,
  });

  // 4. Kept: on the state branch, on the pull request, in the job summary.
  const written = await writeAuditRecord(state, record);
  if (written.kept) {
    io.out(`Audit record ${written.path} kept: it records a send that began, and this run sent nothing (a record of no send never replaces it).\n`);
  } else {
    io.out(`Audit record ${written.path} ${written.pushed ? "pushed to" : "already on"} ${state.branch}.\n`);
  }
  const markdown = renderAuditMarkdown(written.record);
  // Filed under the send's shard, or `all` when nothing was sent (auditShard): the comment follows the record.
  const comment = await upsertComment(client, pr, auditMarker(id, auditShard(record)), markdown, env.inputs.commentAuthors);
  io.out(`Audit comment ${comment.action} on #${pr}: ${comment.url}\n`);
  await appendSummary(markdown);

  const outcome = send?.outcome ?? "not-sent";
  setOutputs({
    record_path: written.path,
    outcome,
    total: send?.counts.total ?? 0,
    sent: send?.counts.sent ?? 0,
    failed: send?.counts.failed ?? 0,
    in_doubt: send?.counts.in_doubt ?? 0,
    skipped: send?.counts.skipped ?? 0,
    approved: gate.approved,
    comment_url: comment.url,
  });
  if (env.inputs.sendOutcome && env.inputs.sendOutcome !== "success" && send?.outcome === "completed") {
    io.out(`The send step ended ${env.inputs.sendOutcome}; its ledger says completed.\n`);
  }
  return 0;
}
