/**
 * The audit record: schema at runtime, no address anywhere but the tool's own
 * Message-IDs, the Markdown a PR comment shows, and the copy kept on the
 * state branch (a real bare repository).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  AuditRecordError,
  auditMarker,
  auditRecordPath,
  auditText,
  parseAuditMarker,
  renderAuditMarkdown,
  validateAuditRecord,
  writeAuditRecord,
  type AuditRecord,
} from "../src/audit/record.ts";
import { TOOL_VERSION } from "../src/runtime/version.ts";
import { messageIdFor } from "../src/compose/ids.ts";
import { openStateBranch } from "../src/state/git-branch.ts";
import { GitLedgerStore, stateLedgerPath } from "../src/state/git-ledger-store.ts";

const ID = "2026-12-01-winter-update";
const sha = (c: string) => c.repeat(40);

function record(): AuditRecord {
  return {
    version: 1,
    newsletter: ID,
    repository: "corp/newsletters",
    pr: { number: 42, url: "https://github.com/corp/newsletters/pull/42", head_sha: sha("a"), merge_sha: sha("b"), base_ref: "main" },
    digest: "d".repeat(64),
    approvals: [
      { stage: "content", login: "alice", review_id: 1001, commit: sha("a"), submitted_at: "2026-11-30T10:00:00Z" },
      { stage: "privacy", login: "bob-p", review_id: 1002, commit: sha("a"), submitted_at: "2026-11-30T11:30:00+09:00" },
      { stage: "release", login: "carol", review_id: 1003, commit: sha("a"), submitted_at: "2026-11-30T12:00:00Z" },
    ],
    approval_copies: {
      at: "2026-11-29T09:00:00Z",
      message_ids: [messageIdFor("s", ID, "fp-alice-0001", "corp.example"), messageIdFor("s", ID, "fp-bob-00002", "corp.example")],
    },
    send: {
      shard: "all",
      started_at: "2026-12-01T00:00:00Z",
      ended_at: "2026-12-01T00:03:25Z",
      outcome: "halted",
      detail: "SIGTERM | cancelled <run>",
      counts: { total: 3000, sent: 2900, failed: 3, in_doubt: 2, skipped: 95 },
    },
    gate: { approved: true, warnings: ["branch protection does not dismiss stale reviews"] },
    tool_version: TOOL_VERSION,
  };
}

function problemsOf(v: unknown): string[] {
  try {
    validateAuditRecord(v);
    return [];
  } catch (e) {
    expect(e).toBeInstanceOf(AuditRecordError);
    return [...(e as AuditRecordError).problems];
  }
}

describe("audit record", () => {
  it("validates a full record, and the minimal one (nothing sent, no copies)", () => {
    const r = record();
    expect(validateAuditRecord(r)).toEqual(r);
    const minimal = { ...r, pr: { number: 1, head_sha: sha("c"), base_ref: "main" }, approvals: [], approval_copies: null, send: null, gate: { approved: false, warnings: [] } };
    expect(validateAuditRecord(minimal)).toEqual(minimal);
    expect(auditRecordPath(minimal)).toBe(`audit/${ID}/all.json`);
    expect(auditRecordPath({ ...r, send: { ...r.send!, shard: "2-of-4" } })).toBe(`audit/${ID}/2-of-4.json`);
  });

  it("rejects an address-like login, and every other place an address could slip in, without quoting it", () => {
    const addr = "alice@corp.example";
    const cases: Array<[string, (r: AuditRecord) => void]> = [
      ["login", (r) => void (r.approvals[0]!.login = addr)],
      ["full-width at", (r) => void (r.approvals[0]!.login = "alice＠corp.example")],
      ["stage", (r) => void (r.approvals[0]!.stage = addr)],
      ["message id that is an address", (r) => void (r.approval_copies!.message_ids[0] = addr)],
      ["message id hiding an address", (r) => void (r.approval_copies!.message_ids[0] = `alice.corp.${ID}@corp.example`)],
      ["detail", (r) => void (r.send!.detail = `bounced for ${addr}`)],
      ["warning", (r) => void (r.gate.warnings.push(`owner ${addr} cannot approve`))],
      ["url userinfo", (r) => void (r.pr.url = `https://${addr}/pull/1`)],
      ["repository", (r) => void (r.repository = `corp/${addr}`)],
      ["base ref", (r) => void (r.pr.base_ref = addr)],
      ["extra key", (r) => void ((r as unknown as Record<string, unknown>).requested_by = addr)],
    ];
    for (const [name, mutate] of cases) {
      const r = record();
      mutate(r);
      const problems = problemsOf(r);
      expect(problems.length, name).toBeGreaterThan(0);
      expect(problems.join("\n"), name).not.toContain("alice@");
    }
    expect(problemsOf({ ...record(), version: 2 })).toEqual(["/version: must be equal to constant"]);
    expect(problemsOf({ ...record(), send: { ...record().send!, outcome: "done" } }).length).toBeGreaterThan(0);
    expect(problemsOf({ ...record(), send: { ...record().send!, counts: { total: -1, sent: 0, failed: 0, in_doubt: 0, skipped: 0 } } }).length).toBeGreaterThan(0);
  });

  it("the serialised record holds no at sign outside its Message-IDs", () => {
    const r = validateAuditRecord(record());
    const json = JSON.stringify(r);
    const ids = r.approval_copies!.message_ids;
    let rest = json;
    for (const id of ids) rest = rest.split(JSON.stringify(id)).join('""');
    expect(rest).not.toMatch(/[@＠﹫]/u);
    expect(json.match(/@/gu)).toHaveLength(ids.length);
  });

  it("auditText makes gate and halt text fit the schema: no addresses, no pings, one line", () => {
    expect(auditText("owners @corp/privacy-office and taro@example.co.test\nrefused")).toBe("owners corp/privacy-office and [address] refused");
    expect(auditText("a＠b.example")).toBe("[address]");
    expect(auditText("x".repeat(600))).toHaveLength(500);
    const r = record();
    r.gate.warnings = [auditText("@carol (taro@example.co.test) is not an owner")];
    expect(() => validateAuditRecord(r)).not.toThrow();
  });

  it("renders Markdown with the marker, approvals by stage, counts, digest and timing", () => {
    const r = record();
    const md = renderAuditMarkdown(r);
    expect(md.split("\n")[0]).toBe(`<!-- newsletter-audit:${ID}:all -->`);
    expect(auditMarker(ID, "all")).toBe(md.split("\n")[0]);
    expect(parseAuditMarker(`earlier text\n${md}`)).toEqual({ id: ID, shard: "all" });
    expect(parseAuditMarker("no marker here")).toBeNull();
    expect(md).toContain("| `content` | alice | 1001 | `aaaaaaaaaaaa` | 2026-11-30 10:00:00 UTC |");
    expect(md).toContain("| `privacy` | bob-p | 1002 | `aaaaaaaaaaaa` | 2026-11-30 02:30:00 UTC |");
    expect(md).toContain("| 3,000 | 2,900 | 3 | 2 | 95 |");
    expect(md).toContain(`| Digest | \`${"d".repeat(64)}\` |`);
    expect(md).toContain("| `all` | 2026-12-01 00:00:00 UTC | 2026-12-01 00:03:25 UTC | 3 min 25 s | ⏸️ halted |");
    expect(md).toContain("[#42](https://github.com/corp/newsletters/pull/42) into `main`");
    expect(md).toContain("Detail: SIGTERM \\| cancelled &lt;run&gt;"); // cannot break the table or inject HTML
    expect(md).toContain("- branch protection does not dismiss stale reviews");
    // Nobody is pinged, and the only at signs are in the Message-IDs' code spans.
    expect(md).not.toMatch(/(^|[^`<\w.])@\w/mu);
    const ids = r.approval_copies!.message_ids;
    for (const id of ids) expect(md).toContain(`- \`<${id}>\``);
    expect(md.match(/@/gu)).toHaveLength(ids.length);

    const none = renderAuditMarkdown({ ...r, send: null, approval_copies: null, approvals: [], gate: { approved: false, warnings: [] } });
    expect(none.split("\n")[0]).toBe(`<!-- newsletter-audit:${ID}:all -->`);
    expect(none).toContain("**Gate:** ❌ not approved · **Send:** not sent");
    expect(none).toContain("_No approvals recorded._");
    expect(none).toContain("_Nothing was sent._");
    // Recipients in doubt or failed are in the headline, never only in the table below it.
    expect(md).toContain("**Gate:** ✅ approved · **Send:** ⏸️ halted: 2,900 sent of 3,000 · ⚠️ 2 in doubt · ⚠️ 3 failed");
    const clean = renderAuditMarkdown({ ...r, send: { ...r.send!, outcome: "completed", counts: { total: 3000, sent: 2905, failed: 0, in_doubt: 0, skipped: 95 } } });
    expect(clean).toContain("**Send:** ✅ completed: 2,905 sent of 3,000\n");
    const shard = renderAuditMarkdown({ ...r, send: { ...r.send!, shard: "2-of-4" } });
    expect(parseAuditMarker(shard)).toEqual({ id: ID, shard: "2-of-4" });
  });

  it("writeAuditRecord lands on the state branch beside the ledger, and refuses an invalid record", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "nl-audit-"));
    const bare = path.join(root, "origin.git");
    execFileSync("git", ["init", "-q", "--bare", bare]);
    const author = { name: "newsletter-bot", email: "bot@state.invalid" };
    const state = await openStateBranch({ remote: bare, dir: path.join(root, "state"), author });
    await new GitLedgerStore(state, stateLedgerPath(ID, "all")).append("{}\n", false); // an outcome not yet pushed
    const r = record();
    const res = await writeAuditRecord(state, r);
    expect(res).toMatchObject({ path: `audit/${ID}/all.json`, pushed: true, kept: false });
    const show = (p: string) => execFileSync("git", ["show", `newsletter-state:${p}`], { cwd: bare, encoding: "utf8" });
    const stored: unknown = JSON.parse(show(res.path));
    expect(validateAuditRecord(stored)).toEqual(r);
    expect(show(stateLedgerPath(ID, "all"))).toBe("{}\n"); // pushed with it
    const log = execFileSync("git", ["log", "-1", "--format=%s", "newsletter-state"], { cwd: bare, encoding: "utf8" }).trim();
    expect(log).toBe(`audit ${ID} all halted`);

    // A later record of no send (a refused re-run) does not replace the record of a send that began.
    const none = await writeAuditRecord(state, { ...r, send: null });
    expect(none).toMatchObject({ path: `audit/${ID}/all.json`, pushed: false, kept: true });
    expect(none.record).toEqual(r);
    expect(validateAuditRecord(JSON.parse(show(res.path)))).toEqual(r);

    const bad = { ...r, approvals: [{ ...r.approvals[0]!, login: "alice@corp.example" }] };
    await expect(writeAuditRecord(state, bad)).rejects.toBeInstanceOf(AuditRecordError);
    expect(state.hasPending()).toBe(false); // nothing written
  });
});
