/**
 * `step approval-record`: after `test-send`, publishes what the approval copy
 * was — its Message-IDs, the time, the digest, the approvers' logins — as a
 * sticky comment on the pull request whose hidden marker names the newsletter
 * and the head commit. The send runs in another workflow run, on another
 * runner, without this job's disk: the audit step reads the record back from
 * this comment (approvalCopiesFromComments), believing only comments by this
 * tool's identity and only for the approved head.
 *
 * Source: `<state dir>/approval/<id>.json`, written by `test-send`.
 * Needs: NEWSLETTER_DIR, GITHUB_TOKEN, GITHUB_REPOSITORY, a pull_request event
 * (head SHA, number). Outputs: comment_id, comment_url, message_ids (count), at.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { MESSAGE_ID_PATTERN } from "../../audit/schema.ts";
import { isOurs, upsertComment, type IssueComment } from "../comments.ts";
import { githubClient, mdCode, type StepContext } from "../context.ts";
import { need, newsletterIdOf } from "../env.ts";
import { StepInputError } from "../errors.ts";
import { appendSummary, setOutputs } from "../runner.ts";

const MESSAGE_ID = new RegExp(MESSAGE_ID_PATTERN, "u");
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/u;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/u;

export function approvalMarker(id: string, headSha: string): string {
  return `<!-- newsletter-approval-copy:${id}:${headSha} -->`;
}

/** The machine-readable part of the comment, in an HTML comment of its own. */
const DATA_RE = /<!-- newsletter-approval-copy-data (\{[^\n]*?\}) -->/u;

export interface ApprovalCopyRecord {
  readonly v: 1;
  readonly id: string;
  readonly head_sha: string;
  readonly digest: string;
  readonly at: string;
  readonly message_ids: readonly string[];
  readonly logins: readonly string[];
}

/** Checks a record (from test-send's file or from a comment) field by field; null when anything is off. */
export function parseApprovalCopyRecord(value: unknown): ApprovalCopyRecord | null {
  if (typeof value !== "object" || value === null) return null;
  const r = value as Record<string, unknown>;
  const ids = r["message_ids"];
  const logins = r["logins"];
  if (r["v"] !== 1) return null;
  if (typeof r["id"] !== "string" || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$/u.test(r["id"])) return null;
  if (typeof r["head_sha"] !== "string" || !/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/u.test(r["head_sha"])) return null;
  if (typeof r["digest"] !== "string" || !/^[0-9a-f]{64}$/u.test(r["digest"])) return null;
  if (typeof r["at"] !== "string" || !ISO.test(r["at"]) || Number.isNaN(Date.parse(r["at"]))) return null;
  if (!Array.isArray(ids) || ids.length > 1000 || !ids.every((m) => typeof m === "string" && m.length <= 250 && MESSAGE_ID.test(m))) return null;
  if (!Array.isArray(logins) || !logins.every((l) => typeof l === "string" && LOGIN.test(l))) return null;
  return { v: 1, id: r["id"], head_sha: r["head_sha"], digest: r["digest"], at: r["at"], message_ids: ids as string[], logins: logins as string[] };
}

export function renderApprovalComment(rec: ApprovalCopyRecord): string {
  const n = rec.message_ids.length;
  return [
    approvalMarker(rec.id, rec.head_sha),
    `### Approval copy of ${mdCode(rec.id)}`,
    "",
    `${n} approval cop${n === 1 ? "y" : "ies"} sent at ${rec.at.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC")}${rec.logins.length ? ` to ${rec.logins.map(mdCode).join(", ")}` : ""}, for head ${mdCode(rec.head_sha)} with digest ${mdCode(rec.digest)}.`,
    "",
    "Approvers: compare the digest in the approval copy with the manifest comment, then review the pull request.",
    "",
    "<details><summary>Message-IDs</summary>",
    "",
    ...rec.message_ids.map((m) => `- ${mdCode(`<${m}>`)}`),
    "",
    "</details>",
    "",
    `<!-- newsletter-approval-copy-data ${JSON.stringify(rec)} -->`,
    "",
  ].join("\n");
}

/** What the audit step makes of the pull request's comments: the record for this newsletter and head, or why there is none. */
export function approvalCopiesFromComments(
  comments: readonly IssueComment[],
  o: { id: string; headSha: string; digest: string; authors: readonly string[] },
): { record: ApprovalCopyRecord | null; warning: string | null } {
  const marker = approvalMarker(o.id, o.headSha);
  const carrying = comments.filter((c) => c.body.includes(marker));
  const ours = carrying.filter((c) => isOurs(c, o.authors));
  const who = o.authors.join(" or ");
  if (ours.length === 0) {
    const others = carrying.length ? ` (${carrying.length} comment(s) by others carry its marker and were ignored)` : "";
    return { record: null, warning: `no approval-copy record by ${who} for head ${o.headSha.slice(0, 12)} on the pull request${others}` };
  }
  // The latest of ours wins (a re-run of the approval-copy job updates it in place anyway).
  const c = ours[ours.length - 1]!;
  const m = DATA_RE.exec(c.body);
  let rec: ApprovalCopyRecord | null = null;
  try {
    rec = m?.[1] ? parseApprovalCopyRecord(JSON.parse(m[1])) : null;
  } catch {
    rec = null;
  }
  if (rec === null || rec.id !== o.id || rec.head_sha !== o.headSha) {
    return { record: null, warning: `the approval-copy comment ${c.id} for head ${o.headSha.slice(0, 12)} holds no readable record` };
  }
  if (rec.digest !== o.digest) {
    return { record: null, warning: `the approval copy of head ${o.headSha.slice(0, 12)} showed digest ${rec.digest.slice(0, 12)}, not the sent digest ${o.digest.slice(0, 12)}` };
  }
  return { record: rec, warning: null };
}

/** test-send's file: `{ id, digest, at, transport, copies: [{ login, masked, message_id }] }`. */
async function readTestSendRecord(file: string, id: string, headSha: string): Promise<ApprovalCopyRecord> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StepInputError(
      code === "ENOENT"
        ? `no approval copy was recorded for ${id} (${path.basename(path.dirname(file))}/${path.basename(file)} is missing): run \`test-send\` first, with the same NEWSLETTER_STATE_DIR`
        : `the approval-copy record of ${id} cannot be read: ${code ?? "not JSON"}`,
    );
  }
  const r = raw as { id?: unknown; digest?: unknown; at?: unknown; copies?: Array<{ login?: unknown; message_id?: unknown }> };
  const copies = Array.isArray(r.copies) ? r.copies : [];
  const rec = parseApprovalCopyRecord({
    v: 1,
    id: r.id,
    head_sha: headSha,
    digest: r.digest,
    at: r.at,
    message_ids: copies.map((c) => c.message_id),
    logins: copies.map((c) => c.login).filter((l): l is string => typeof l === "string"),
  });
  if (rec === null || rec.id !== id) throw new StepInputError(`the approval-copy record of ${id} is malformed; run \`test-send\` again`);
  return rec;
}

export async function runApprovalRecord(ctx: StepContext): Promise<number> {
  const { env, io } = ctx;
  const dir = need(env.inputs.dir, "NEWSLETTER_DIR", "approval-record publishes the approval copy of one newsletter");
  const pr = need(env.inputs.pr, "NEWSLETTER_PR", "approval-record comments on the pull request");
  const headSha = need(env.event?.pull_request?.head.sha, "GITHUB_EVENT_PATH", "approval-record needs a pull_request event (the head commit the copy was made from)");
  const id = newsletterIdOf(dir);
  const rec = await readTestSendRecord(path.join(env.inputs.stateDir, "approval", `${id}.json`), id, headSha);
  const client = githubClient(ctx, "approval-record writes a comment on the pull request");
  const r = await upsertComment(client, pr, approvalMarker(id, headSha), renderApprovalComment(rec), env.inputs.commentAuthors);
  io.out(`Approval-copy record ${r.action} on #${pr} (${rec.message_ids.length} Message-IDs, head ${headSha.slice(0, 12)}): ${r.url}\n`);
  setOutputs({ comment_id: r.id, comment_url: r.url, message_ids: rec.message_ids.length, at: rec.at });
  await appendSummary(`Approval copy of \`${id}\`: ${rec.message_ids.length} sent at ${rec.at}, recorded on [#${pr}](${r.url}).`);
  return 0;
}
