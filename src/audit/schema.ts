/**
 * JSON Schema (draft-07) of the audit record (docs/design.md, "The audit record":
 * the PR, head and merge SHAs, the digest, each approval, the approval-copy
 * Message-IDs and time, the send's counts, start, end and any halt or abort)
 * and the type derived from it.
 *
 * The record is evidence that is kept — on a branch, in PR comments — so it
 * must never hold an address. The schema makes that structural rather than a
 * matter of care: every string has a pattern or a format, logins and ids are
 * shapes an address cannot take, and free text (halt detail, gate warnings)
 * may not contain an at sign at all. The one place an `@` may appear is a
 * Message-ID, and only in the form this tool generates
 * (`<32 hex>.<newsletter id>@<sender domain>`, src/compose/ids.ts): the left
 * side is an HMAC, so no address can hide in it.
 */
import type { FromSchema } from "json-schema-to-ts";
import { BRANCH_PATTERN, LOGIN_PATTERN, STAGE_NAME_PATTERN } from "../load/schema/config.ts";

export const NEWSLETTER_ID_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*$";
/** `owner/name` as GitHub spells them. */
export const REPOSITORY_PATTERN = "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$";
/** A commit id: SHA-1, or SHA-256 for repositories that use it. */
export const SHA_PATTERN = "^[0-9a-f]{40}(?:[0-9a-f]{24})?$";
export const DIGEST_PATTERN = "^[0-9a-f]{64}$";
/** https only, and no userinfo: a URL with `user@` is where a token or an address would hide. */
export const PR_URL_PATTERN = "^https://[^\\s@/]+/[^\\s@]*$";
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/** The Message-IDs this tool makes: `<32 hex>.<newsletter id>@<sender domain>`, no angle brackets. */
export const MESSAGE_ID_PATTERN = `^[0-9a-f]{32}\\.[0-9]{4}-[0-9]{2}-[0-9]{2}-[a-z0-9]+(?:-[a-z0-9]+)*@(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`;
/** `all`, or `I-of-N` for `--shard I/N`. */
export const SHARD_PATTERN = "^(?:all|[1-9][0-9]{0,3}-of-[1-9][0-9]{0,3})$";
/** One line of text with no at sign of any width (`@`, `＠`, `﹫`) and no control characters. */
export const NO_AT_TEXT_PATTERN = "^[^@\\uFF20\\uFE6B\\u0000-\\u001f\\u007f]*$";
export const TOOL_VERSION_PATTERN = "^[0-9]+\\.[0-9]+\\.[0-9]+(?:[-+][0-9A-Za-z.+-]{1,64})?$";

const sha = { type: "string", pattern: SHA_PATTERN } as const;
const time = { type: "string", format: "date-time" } as const;
const count = { type: "integer", minimum: 0 } as const;
const freeText = { type: "string", maxLength: 500, pattern: NO_AT_TEXT_PATTERN } as const;

export const auditRecordSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://gitops-newsletter.invalid/schema/audit-record.json",
  title: "audit/<id>/<shard>.json on the newsletter-state branch",
  type: "object",
  additionalProperties: false,
  required: ["version", "newsletter", "repository", "pr", "digest", "approvals", "approval_copies", "send", "gate", "tool_version"],
  properties: {
    version: { const: 1 },
    newsletter: { type: "string", maxLength: 100, pattern: NEWSLETTER_ID_PATTERN },
    repository: { type: "string", pattern: REPOSITORY_PATTERN },
    pr: {
      type: "object",
      additionalProperties: false,
      required: ["number", "head_sha", "base_ref"],
      properties: {
        number: { type: "integer", minimum: 1 },
        url: { type: "string", maxLength: 500, format: "uri", pattern: PR_URL_PATTERN },
        head_sha: sha,
        merge_sha: sha,
        base_ref: { type: "string", pattern: BRANCH_PATTERN },
      },
    },
    digest: { type: "string", pattern: DIGEST_PATTERN },
    approvals: {
      type: "array",
      maxItems: 100,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["stage", "login", "review_id", "commit", "submitted_at"],
        properties: {
          stage: { type: "string", pattern: STAGE_NAME_PATTERN },
          login: { type: "string", pattern: LOGIN_PATTERN },
          review_id: { type: "integer", minimum: 1 },
          commit: sha,
          submitted_at: time,
        },
      },
    },
    approval_copies: {
      anyOf: [
        { type: "null" },
        {
          type: "object",
          additionalProperties: false,
          required: ["at", "message_ids"],
          properties: {
            at: time,
            message_ids: { type: "array", maxItems: 1000, items: { type: "string", maxLength: 250, pattern: MESSAGE_ID_PATTERN } },
          },
        },
      ],
    },
    send: {
      anyOf: [
        { type: "null" },
        {
          type: "object",
          additionalProperties: false,
          required: ["shard", "started_at", "ended_at", "outcome", "counts"],
          properties: {
            shard: { type: "string", pattern: SHARD_PATTERN },
            started_at: time,
            ended_at: time,
            outcome: { enum: ["completed", "halted", "aborted"] },
            /** "none": sent with `--without-approval` (the ledger's begin record says so). */
            approval: { enum: ["gate", "none"] },
            detail: freeText,
            counts: {
              type: "object",
              additionalProperties: false,
              required: ["total", "sent", "failed", "in_doubt", "skipped"],
              properties: { total: count, sent: count, failed: count, in_doubt: count, skipped: count },
            },
          },
        },
      ],
    },
    gate: {
      type: "object",
      additionalProperties: false,
      required: ["approved", "warnings"],
      properties: {
        approved: { type: "boolean" },
        warnings: { type: "array", maxItems: 100, items: freeText },
      },
    },
    tool_version: { type: "string", pattern: TOOL_VERSION_PATTERN },
  },
} as const;

export type AuditRecord = FromSchema<typeof auditRecordSchema>;
export type AuditApproval = AuditRecord["approvals"][number];
export type AuditSend = NonNullable<AuditRecord["send"]>;
export type AuditApprovalCopies = NonNullable<AuditRecord["approval_copies"]>;
