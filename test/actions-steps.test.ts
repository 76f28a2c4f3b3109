/**
 * The Actions step entry points' pure parts (src/actions/): the environment
 * read once with clear errors, the one failure path, workflow-command
 * escaping, the audit record's send section from a ledger, the release of
 * claims a killed send never pushed, and which approval-copy comment is
 * believed. The whole lifecycle through the fake GitHub, SMTP and git is
 * test/lifecycle.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readActionsEnv } from "../src/actions/env.ts";
import { annotate, appendSummary, setOutputs } from "../src/actions/runner.ts";
import { approvalCopiesFromComments, approvalMarker, renderApprovalComment, type ApprovalCopyRecord } from "../src/actions/steps/approval-record.ts";
import { pushedText, releaseUnpushedClaims, sendFromLedger } from "../src/actions/steps/audit.ts";
import type { IssueComment } from "../src/actions/comments.ts";
import { foldLedgerText, countLedger } from "../src/ledger/state.ts";
import { asStepProcess, runStepInProcess } from "./helpers/step-process.ts";

const SHA = "a".repeat(40);
const DIGEST = "d".repeat(64);
const ID = "2026-12-01-winter-update";

const step = (argv: string[], env: Record<string, string> = {}) => runStepInProcess(argv, env, tmpdir());

describe("step entry: one failure path", () => {
  it("a missing variable: one ::error:: line naming it and how to set it, exit 2, no stack", async () => {
    const x = await step(["audit"], { GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "corp/newsletters" });
    expect(x.code).toBe(2);
    expect(x.stdout).toMatch(/^::error title=newsletter step audit::NEWSLETTER_DIR is not set: .*pass the newsletter folder/m);
    expect(x.stdout.trim().split("\n")).toHaveLength(1);
    expect(x.stderr).toBe("");
  });

  it("an unknown step, extra arguments, a malformed value: exit 2 with what is wrong", async () => {
    const a = await step(["deploy"]);
    expect(a.code).toBe(2);
    expect(a.stdout).toContain("unknown step");
    const b = await step(["audit", "--now"]);
    expect(b.code).toBe(2);
    expect(b.stdout).toContain("takes no arguments");
    const c = await step(["pr-comment"], { NEWSLETTER_PR: "7; rm -rf /" });
    expect(c.code).toBe(2);
    expect(c.stdout).toContain("NEWSLETTER_PR is not a pull request number");
  });

  it("an address in an error message is masked on the way out", async () => {
    const x = await step(["pr-comment"], { NEWSLETTER_DIR: "newsletters/taro.yamada@example.com" });
    expect(x.code).toBe(2);
    expect(x.stdout).not.toContain("taro.yamada@example.com");
  });
});

describe("readActionsEnv", () => {
  it("reads the event, the inputs and the runner's files once, with defaults", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-env-"));
    const event = path.join(dir, "event.json");
    writeFileSync(event, JSON.stringify({ pull_request: { number: 12, head: { sha: SHA, ref: "b" }, base: { sha: SHA, ref: "main" } } }));
    const env = readActionsEnv({ GITHUB_EVENT_PATH: event, GITHUB_WORKSPACE: dir, RUNNER_TEMP: dir, NEWSLETTER_SHARD: "2/4", NEWSLETTER_DIR: `newsletters/${ID}/` }, "/");
    expect(env.inputs).toMatchObject({ pr: 12, dir: `newsletters/${ID}`, shard: { index: 2, count: 4 }, stateBranch: "newsletter-state", commentAuthors: ["github-actions[bot]"] });
    expect(env.inputs.stateDir).toBe(path.join(dir, ".newsletter-state"));
    expect(env.inputs.gateFile).toBe(path.join(dir, "gate.json"));
    expect(env.apiUrl).toBe("https://api.github.com");
  });

  it("refuses malformed values at once", () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ NEWSLETTER_SHA: "abc" }, /NEWSLETTER_SHA is not a commit SHA/],
      [{ NEWSLETTER_DIGEST: "x".repeat(64) }, /NEWSLETTER_DIGEST/],
      [{ NEWSLETTER_SHARD: "5/4" }, /NEWSLETTER_SHARD/],
      [{ GITHUB_REPOSITORY: "corp" }, /GITHUB_REPOSITORY/],
      [{ GITHUB_API_URL: "https://user:pw@api.example" }, /GITHUB_API_URL/],
      [{ GITHUB_EVENT_PATH: "/nonexistent/event.json" }, /GITHUB_EVENT_PATH names a file that cannot be read/],
      [{ NEWSLETTER_COMMENT_AUTHORS: "someone@example.com" }, /NEWSLETTER_COMMENT_AUTHORS/],
    ];
    for (const [env, re] of bad) expect(() => readActionsEnv(env, "/"), JSON.stringify(env)).toThrow(re);
  });
});

describe("workflow commands and outputs, through @actions/core", () => {
  /** GITHUB_OUTPUT as the runner reads it: `name=value`, or `name<<DELIM` ... `DELIM`. */
  function readOutputs(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    const lines = text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const heredoc = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
      if (heredoc) {
        const end = lines.indexOf(heredoc[2]!, i + 1);
        out[heredoc[1]!] = lines.slice(i + 1, end).join("\n");
        i = end;
      } else if (lines[i]!.includes("=")) {
        out[lines[i]!.slice(0, lines[i]!.indexOf("="))] = lines[i]!.slice(lines[i]!.indexOf("=") + 1);
      }
    }
    return out;
  }

  it("escapes %, CR and LF so data cannot start a command of its own, and : , in a title; addresses masked", async () => {
    const r = await asStepProcess({}, async () => {
      annotate("error", "50%\r\n::error::x to taro.yamada@example.com", "a: b, c");
      annotate("warning", "w");
      return 0;
    });
    expect(r.stdout).toBe("::error title=a%3A b%2C c::50%25%0D%0A::error::x to t***@e***.com\n::warning::w\n");
  });

  it("outputs: each value reads back whole, a line that looks like a delimiter cannot end it early, addresses masked", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-out-"));
    const file = path.join(dir, "output");
    writeFileSync(file, "");
    const values = { a: "1", b: "x\ny", c: "to taro.yamada@example.com", d: "x\nghadelimiter_0\nEOF\nd=forged", e: true };
    expect((await asStepProcess({ GITHUB_OUTPUT: file }, async () => (setOutputs(values), 0))).stdout).toBe("");
    const text = readFileSync(file, "utf8");
    expect(readOutputs(text)).toEqual({ a: "1", b: "x\ny", c: "to t***@e***.com", d: values.d, e: "true" });
    expect(text).not.toContain("taro.yamada@example.com");
  });

  it("the job summary: appended with a blank line after each part; skipped without GITHUB_STEP_SUMMARY", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-sum-"));
    const file = path.join(dir, "summary.md");
    writeFileSync(file, "before\n\n");
    await asStepProcess({ GITHUB_STEP_SUMMARY: file }, async () => (await appendSummary("# one\n\n\n"), await appendSummary("two"), 0));
    expect(readFileSync(file, "utf8")).toBe("before\n\n# one\n\ntwo\n\n");
    await asStepProcess({}, async () => (await appendSummary("never"), 0));
    expect(readFileSync(file, "utf8")).not.toContain("never");
  });
});

// ---------------------------------------------------------------- the audit step's parts

const FP = (i: number) => i.toString(16).padStart(16, "0");
const begin = { t: "begin", v: 1, id: ID, list: "customers", list_rows: 5, digest: DIGEST, shard: "all", count: 5, key_id: "k", at: "2026-12-01T09:00:00.000Z" };
const line = (o: unknown) => `${JSON.stringify(o)}\n`;
const claim = (fps: number[], at: string) => line({ t: "claim", fps: fps.map(FP), at });
const sent = (i: number, at: string) => line({ t: "sent", fp: FP(i), mid: `m${i}`, at });

describe("the send as the ledger tells it", () => {
  it("completed: counts, start, end", () => {
    const text = line(begin) + claim([1, 2, 3, 4, 5], "2026-12-01T09:00:01.000Z") + [1, 2, 3, 4, 5].map((i) => sent(i, "2026-12-01T09:00:02.000Z")).join("") + line({ t: "end", at: "2026-12-01T09:00:03.000Z", outcome: "completed" });
    expect(sendFromLedger(text, "all", "l")).toEqual({
      shard: "all", started_at: begin.at, ended_at: "2026-12-01T09:00:03.000Z", outcome: "completed",
      counts: { total: 5, sent: 5, failed: 0, in_doubt: 0, skipped: 0 },
    });
  });

  it("killed (no end record): halted, said so, ended at the last record; a torn last line is ignored", () => {
    const text = line(begin) + claim([1, 2, 3], "2026-12-01T09:00:01.000Z") + sent(1, "2026-12-01T09:00:05.000Z") + '{"t":"sent","fp":"00';
    const s = sendFromLedger(text, "all", "l")!;
    expect(s).toMatchObject({ outcome: "halted", ended_at: "2026-12-01T09:00:05.000Z", counts: { total: 5, sent: 1, in_doubt: 2, skipped: 2 } });
    expect(s.detail).toMatch(/no end record/);
    expect(s.detail).not.toMatch(/@/);
  });

  it("no ledger, or one without its begin record: nothing was sent", () => {
    expect(sendFromLedger(null, "all", "l")).toBeNull();
    expect(sendFromLedger("", "all", "l")).toBeNull();
  });
});

/** A state branch's worktree of one ledger file `f`, in memory. */
function branch(text: string) {
  const files = new Map([["f", text]]);
  return {
    files,
    read: async (f: string) => files.get(f) ?? null,
    write: async (f: string, c: string) => void files.set(f, c),
    append: async (f: string, c: string) => void files.set(f, (files.get(f) ?? "") + c),
  };
}

const now = () => new Date("2026-12-01T09:10:00.000Z");

describe("claims a killed send never pushed are released, not left in doubt", () => {

  it("a claim only in the worktree: its group was never handed over — released; outcomes of pushed claims stay", async () => {
    const remote = line(begin) + claim([1, 2], "2026-12-01T09:00:01.000Z");
    const b = branch(remote + sent(1, "2026-12-01T09:00:02.000Z") + claim([3, 4], "2026-12-01T09:00:03.000Z"));
    expect(await releaseUnpushedClaims(b, "f", remote, now)).toBe(2);
    const state = foldLedgerText(b.files.get("f")!, "f");
    // 1 sent; 2 claimed by a pushed claim and without outcome: in doubt; 3 and 4 free again.
    expect(countLedger(state)).toMatchObject({ sent: 1, inDoubt: 1 });
    expect(state.recipients.has(FP(3))).toBe(false);
  });

  it("never releases a recipient the remote shows in doubt (a --resend-in-doubt run killed before its claim was pushed)", async () => {
    const remote = line(begin) + claim([1, 2], "2026-12-01T09:00:01.000Z") + sent(1, "2026-12-01T09:00:02.000Z");
    const b = branch(remote + claim([2, 5], "2026-12-01T09:05:00.000Z"));
    expect(await releaseUnpushedClaims(b, "f", remote, now)).toBe(1);
    const state = foldLedgerText(b.files.get("f")!, "f");
    expect(state.recipients.get(FP(2))).toBe("claimed");
    expect(state.recipients.has(FP(5))).toBe(false);
  });

  it("cuts a torn last line first; releases nothing when every claim reached the remote or the remote is unknown", async () => {
    const remote = line(begin) + claim([1, 2], "2026-12-01T09:00:01.000Z");
    const torn = branch(`${remote}${claim([3], "2026-12-01T09:00:03.000Z")}{"t":"sent","fp":"0`);
    expect(await releaseUnpushedClaims(torn, "f", remote, now)).toBe(1);
    expect(torn.files.get("f")!.endsWith("}\n")).toBe(true);
    expect(() => foldLedgerText(torn.files.get("f")!, "f")).not.toThrow();
    const pushed = branch(remote + sent(1, "2026-12-01T09:00:02.000Z"));
    expect(await releaseUnpushedClaims(pushed, "f", remote, now)).toBe(0);
    expect(await releaseUnpushedClaims(branch(remote + claim([3], "x")), "f", null, now)).toBe(0);
  });
});

describe("the audit step reads the ledger as the ledger does (src/ledger/records.ts)", () => {
  const remote = line(begin) + claim([1, 2], "2026-12-01T09:00:01.000Z");

  it.each([
    ["an unknown record type", line({ t: "resend", fps: [FP(3)], at: "2026-12-01T09:00:04.000Z" })],
    ["a JSON value that is no record", "null\n"],
    ["a line that is not JSON", "{\"t\":\"claim\",\n"],
  ])("an unpushed tail the ledger calls corrupt (%s) releases nothing: the send refuses that ledger, the audit does not guess", async (_name, bad) => {
    const b = branch(remote + claim([3, 4], "2026-12-01T09:00:03.000Z") + bad);
    expect(await releaseUnpushedClaims(b, "f", remote, now)).toBe(0);
    expect(b.files.get("f")).toBe(remote + claim([3, 4], "2026-12-01T09:00:03.000Z") + bad);
  });
});

describe("the audit step runs git through the one git runner (src/state/git-run.ts)", () => {
  const g = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_DIR: undefined } as NodeJS.ProcessEnv }).trim();
  /** A repository whose `refs/remotes/origin/<branch>` holds `f` with `text`. */
  function repoWith(text: string): string {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-pushed-"));
    g(dir, "init", "-q");
    writeFileSync(path.join(dir, "f"), text);
    g(dir, "add", "f");
    g(dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "f");
    g(dir, "update-ref", "refs/remotes/origin/newsletter-state", "HEAD");
    return dir;
  }

  it("reads the state branch's own repository even when GIT_DIR points elsewhere (as inside a git hook)", async () => {
    const ours = repoWith("ours\n");
    const other = repoWith("other\n");
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = path.join(other, ".git");
    try {
      expect(await pushedText({ dir: ours, branch: "newsletter-state" }, "f")).toBe("ours\n");
      expect(await pushedText({ dir: ours, branch: "newsletter-state" }, "missing")).toBe("");
      expect(await pushedText({ dir: ours, branch: "no-such-branch" }, "f")).toBeNull();
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });
});

describe("which approval-copy record the audit believes", () => {
  const rec: ApprovalCopyRecord = { v: 1, id: ID, head_sha: SHA, digest: DIGEST, at: "2026-12-01T08:00:00.000Z", message_ids: [`${"0".repeat(32)}.${ID}@corp.example`], logins: ["alice"] };
  const c = (id: number, login: string, body: string, type = login.endsWith("[bot]") ? "Bot" : "User"): IssueComment => ({ id, login, type, body, url: `https://github.com/x/y/pull/1#issuecomment-${id}` });
  const o = { id: ID, headSha: SHA, digest: DIGEST, authors: ["github-actions[bot]"] };

  it("ours, for the approved head, with the sent digest", () => {
    const r = approvalCopiesFromComments([c(1, "github-actions[bot]", renderApprovalComment(rec))], o);
    expect(r).toEqual({ record: rec, warning: null });
  });

  it("not someone else's comment carrying the marker, not another head's, not another digest: null and a warning", () => {
    const forged = approvalCopiesFromComments([c(1, "mallory", renderApprovalComment(rec)), c(2, "github-actions[bot]", renderApprovalComment(rec), "User")], o);
    expect(forged.record).toBeNull();
    expect(forged.warning).toMatch(/no approval-copy record by github-actions\[bot\] .*\(2 comment\(s\) by others/);
    const otherHead = approvalCopiesFromComments([c(1, "github-actions[bot]", renderApprovalComment({ ...rec, head_sha: "b".repeat(40) }))], o);
    expect(otherHead.record).toBeNull();
    const otherDigest = approvalCopiesFromComments([c(1, "github-actions[bot]", renderApprovalComment({ ...rec, digest: "e".repeat(64) }))], o);
    expect(otherDigest.warning).toMatch(/not the sent digest/);
    const mangled = approvalCopiesFromComments([c(1, "github-actions[bot]", `${approvalMarker(ID, SHA)}\n<!-- newsletter-approval-copy-data {"v":1} -->`)], o);
    expect(mangled.warning).toMatch(/no readable record/);
  });
});
