/**
 * The audit record: validated at runtime against src/audit/schema.ts, kept
 * as `audit/<id>/<shard>.json` on the state branch beside the ledger, and
 * rendered as Markdown for the PR comment and the job summary.
 *
 * One record per newsletter and shard, because shards of a matrix finish
 * independently and each must be able to write its own without a merge; a
 * record written before any send (say, the gate refused) has `send: null`
 * and is filed under shard `all`.
 */
import { redact } from "../address/redact.ts";
import { NewsletterError } from "../errors.ts";
import { createAjv } from "../load/schema-findings.ts";
import type { StateBranch } from "../state/git-branch.ts";
import { auditRecordSchema, type AuditRecord, type AuditSend } from "./schema.ts";

export type { AuditRecord } from "./schema.ts";

/** The record does not match its schema, or would carry an address. Nothing is written. */
export class AuditRecordError extends NewsletterError {
  readonly code = "internal" as const;
  readonly exitCode = 2;
  constructor(
    message: string,
    /** `path: problem` per violation; never the offending value (it may be an address). */
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

let validator: ReturnType<typeof compile> | undefined;
function compile() {
  return createAjv().compile<AuditRecord>(auditRecordSchema);
}

/**
 * Checks `value` against the schema and returns it typed. Throws
 * AuditRecordError naming each violation by path and rule, never by value.
 * Validates a deep copy, so ajv's `useDefaults` cannot touch the caller's object.
 */
export function validateAuditRecord(value: unknown): AuditRecord {
  const copy: unknown = JSON.parse(JSON.stringify(value ?? null));
  validator ??= compile();
  if (!validator(copy)) {
    const problems = (validator.errors ?? []).map((e) => `${e.instancePath || "/"}: ${e.message ?? e.keyword}`);
    throw new AuditRecordError(`the audit record is not valid: ${problems.slice(0, 5).join("; ")}`, problems);
  }
  // The net under the schema: any at sign outside the Message-IDs means an
  // address got in through a field whose pattern is looser than we think.
  const withoutIds = { ...copy, approval_copies: copy.approval_copies ? { ...copy.approval_copies, message_ids: [] } : null };
  if (/[@\uFF20\uFE6B]/u.test(JSON.stringify(withoutIds))) {
    throw new AuditRecordError("the audit record holds an at sign outside its Message-IDs", ["/: no field may hold an address"]);
  }
  return copy;
}

/** Shard the record is filed under: the send's, or `all` when nothing was sent. */
export function auditShard(record: AuditRecord): string {
  return record.send?.shard ?? "all";
}

/** `audit/<id>/<shard>.json` in the state branch. */
export function auditRecordPath(record: AuditRecord): string {
  return `audit/${record.newsletter}/${auditShard(record)}.json`;
}

/** The hidden marker a later step searches PR comments for, to update "one comment per send" instead of adding another. */
export function auditMarker(id: string, shard: string): string {
  return `<!-- newsletter-audit:${id}:${shard} -->`;
}

/** The id and shard of the first audit marker in a comment body, or null. */
export function parseAuditMarker(body: string): { id: string; shard: string } | null {
  const m = /<!-- newsletter-audit:([0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9-]+):(all|[0-9]+-of-[0-9]+) -->/u.exec(body);
  return m?.[1] && m[2] ? { id: m[1], shard: m[2] } : null;
}

/**
 * Text for a free-text field (halt detail, gate warning) that satisfies the
 * schema: addresses replaced, mention signs dropped (`@corp/team` →
 * `corp/team`, which also keeps a rendered comment from pinging anyone),
 * control characters turned into spaces, cut to 500 characters.
 */
export function auditText(s: string): string {
  const masked = redact(s).replace(/[^\s<>"'`()[\]{},;:]*[@\uFF20\uFE6B][^\s<>"'`()[\]{},;:]*/gu, (m) =>
    /^[@\uFF20\uFE6B][A-Za-z0-9]/u.test(m) && !/[@\uFF20\uFE6B]/u.test(m.slice(1)) ? m.slice(1) : "[address]",
  );
  const flat = masked.replace(/[\u0000-\u001f\u007f]+/gu, " ");
  return flat.length > 500 ? `${flat.slice(0, 497)}...` : flat;
}

// ---- Markdown -------------------------------------------------------------

/** Free text in a table cell or a line: no HTML, no table breaks, no accidental emphasis or links. */
function md(s: string): string {
  return s
    .replace(/&/gu, "&amp;")
    .replace(/</gu, "&lt;")
    .replace(/>/gu, "&gt;")
    .replace(/([\\`*_[\]|#~])/gu, "\\$1")
    .replace(/\s+/gu, " ");
}

function code(s: string): string {
  return `\`${s.replace(/`/gu, "'")}\``;
}

/** `2026-12-01T09:00:00+09:00` → `2026-12-01 00:00:00 UTC`: one zone for every row, so times compare at a glance. */
function utc(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? md(iso) : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

function duration(fromIso: string, toIso: string): string {
  const ms = new Date(toIso).getTime() - new Date(fromIso).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}

const OUTCOME: Record<AuditSend["outcome"], string> = {
  completed: "✅ completed",
  halted: "⏸️ halted",
  aborted: "⛔ aborted",
};

const n = (x: number) => x.toLocaleString("en-US");

/**
 * The record as Markdown for a PR comment or the job summary. It begins with
 * the hidden marker (auditMarker). Logins are written without `@` so the
 * comment pings nobody; Message-IDs sit in code spans so they are not linked.
 */
export function renderAuditMarkdown(record: AuditRecord): string {
  const shard = auditShard(record);
  const out: string[] = [];
  out.push(auditMarker(record.newsletter, shard));
  out.push(`### Newsletter audit: ${code(record.newsletter)}${shard === "all" ? "" : ` (shard ${code(shard)})`}`);
  out.push("");
  const send = record.send;
  // The headline must not read "completed" alone when someone needs a human decision: recipients
  // in doubt (claimed, no outcome: check the mail server's log before any resend) or failed.
  const attention = send ? [send.counts.in_doubt > 0 ? `⚠️ ${n(send.counts.in_doubt)} in doubt` : "", send.counts.failed > 0 ? `⚠️ ${n(send.counts.failed)} failed` : ""].filter(Boolean) : [];
  const sendLine = send
    ? `${OUTCOME[send.outcome]}: ${n(send.counts.sent)} sent of ${n(send.counts.total)}${attention.length ? ` · ${attention.join(" · ")}` : ""}`
    : "not sent";
  out.push(`**Gate:** ${record.gate.approved ? "✅ approved" : "❌ not approved"} · **Send:** ${sendLine}`);
  out.push("");
  out.push("| | |", "| --- | --- |");
  out.push(`| Repository | ${code(record.repository)} |`);
  const pr = record.pr.url ? `[#${record.pr.number}](${record.pr.url})` : `#${record.pr.number}`;
  out.push(`| Pull request | ${pr} into ${code(record.pr.base_ref)} |`);
  out.push(`| Head commit | ${code(record.pr.head_sha)} |`);
  out.push(`| Merge commit | ${record.pr.merge_sha ? code(record.pr.merge_sha) : "—"} |`);
  out.push(`| Digest | ${code(record.digest)} |`);
  out.push(`| Tool version | ${code(record.tool_version)} |`);
  out.push("");

  out.push("#### Approvals by stage", "");
  if (record.approvals.length === 0) {
    out.push("_No approvals recorded._");
  } else {
    out.push("| Stage | Approver | Review | Commit | Submitted |", "| --- | --- | ---: | --- | --- |");
    for (const a of record.approvals) {
      out.push(`| ${code(a.stage)} | ${a.login} | ${a.review_id} | ${code(a.commit.slice(0, 12))} | ${utc(a.submitted_at)} |`);
    }
  }
  out.push("");

  out.push("#### Approval copies", "");
  const copies = record.approval_copies;
  if (!copies) {
    out.push("_No approval copies recorded._");
  } else {
    out.push(`${copies.message_ids.length} sent at ${utc(copies.at)}.`);
    if (copies.message_ids.length) {
      out.push("", "<details><summary>Message-IDs</summary>", "");
      for (const id of copies.message_ids) out.push(`- ${code(`<${id}>`)}`);
      out.push("", "</details>");
    }
  }
  out.push("");

  out.push("#### Send", "");
  if (!send) {
    out.push("_Nothing was sent._");
  } else {
    out.push("| Shard | Started | Ended | Took | Outcome |", "| --- | --- | --- | --- | --- |");
    out.push(`| ${code(send.shard)} | ${utc(send.started_at)} | ${utc(send.ended_at)} | ${duration(send.started_at, send.ended_at)} | ${OUTCOME[send.outcome]} |`);
    if (send.detail) out.push("", `Detail: ${md(send.detail)}`);
    const c = send.counts;
    out.push("", "| Total | Sent | Failed | In doubt | Skipped |", "| ---: | ---: | ---: | ---: | ---: |");
    out.push(`| ${n(c.total)} | ${n(c.sent)} | ${n(c.failed)} | ${n(c.in_doubt)} | ${n(c.skipped)} |`);
  }

  if (record.gate.warnings.length) {
    out.push("", "#### Gate warnings", "");
    for (const w of record.gate.warnings) out.push(`- ${md(w)}`);
  }
  out.push("");
  return out.join("\n");
}

// ---- On the state branch --------------------------------------------------

/** The part of the state branch the audit writer needs. */
export type AuditBranch = Pick<StateBranch, "read" | "write" | "commitAndPush">;

/**
 * Validates `record`, writes it as `audit/<id>/<shard>.json` and pushes it
 * (with anything else pending on the branch). Resolves once the remote
 * holds it. Rewriting the same shard's record replaces it: the branch
 * history keeps every earlier version. Except (docs/design.md, "The audit
 * record"): a record of a send that never began does not replace one of a
 * send that began, which is what keeps a newsletter from being sent again
 * as new once its ledger is gone; that record is kept and returned as
 * `record`.
 */
export async function writeAuditRecord(
  state: AuditBranch,
  record: AuditRecord,
): Promise<{ path: string; pushed: boolean; record: AuditRecord; kept: boolean }> {
  const valid = validateAuditRecord(record);
  const file = auditRecordPath(valid);
  if (valid.send === null) {
    const existing = await state.read(file);
    let earlier: AuditRecord | null = null;
    try {
      earlier = existing === null ? null : validateAuditRecord(JSON.parse(existing));
    } catch {
      earlier = null;
    }
    if (earlier?.send) return { path: file, pushed: false, record: earlier, kept: true };
  }
  await state.write(file, `${JSON.stringify(valid, null, 2)}\n`);
  const r = await state.commitAndPush(`audit ${valid.newsletter} ${auditShard(valid)}${valid.send ? ` ${valid.send.outcome}` : ""}`);
  return { path: file, pushed: r.pushed, record: valid, kept: false };
}
