/**
 * The workflow-facing decisions, on their own (docs/design.md, "Scheduling and
 * continuation"): the shard matrix from `sending.shards`, whether a send is
 * continued by another run, the exit code of a budget stop, and the schedule.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.ts";
import { parseMessageIdList, confirmedInDoubt } from "../src/send/confirmed.ts";
import { needsContinuation, shardMatrix, type ShardEnd } from "../src/send/continuation.ts";
import { Halt, type HaltCause } from "../src/send/halt.ts";
import type { PipelineResult } from "../src/send/pipeline.ts";
import { describeWhen, scheduleOf } from "../src/send/schedule.ts";
import { EXIT_CONTINUE, sendExitCode } from "../src/send/summary.ts";

describe("shard matrix from sending.shards", () => {
  it.each([
    [undefined, ["all"]],
    [1, ["all"]],
    [3, ["1/3", "2/3", "3/3"]],
  ] as Array<[number | undefined, string[]]>)("shards %s → %j", (n, want) => {
    expect(shardMatrix(n)).toEqual(want);
  });
});

describe("continue a send?", () => {
  const budget: ShardEnd = { shard: "1-of-2", ended: "halted", detail: "time budget of 19800 s spent" };
  const done: ShardEnd = { shard: "2-of-2", ended: "completed" };
  it.each([
    ["one shard stopped by its budget, the other done", [budget, done], true],
    ["every shard done", [done, { ...done, shard: "1-of-2" }], false],
    ["halted by a signal (a person cancelled it)", [{ shard: "all", ended: "halted", detail: "SIGTERM" }], false],
    ["a shard aborted by the guard, another stopped by its budget", [budget, { shard: "2-of-2", ended: "aborted", detail: "guard: …" }], false],
    ["a run killed without an end record", [{ shard: "all", ended: null }], false],
    ["never started", [], false],
  ] as Array<[string, ShardEnd[], boolean]>)("%s → %s", (_name, shards, want) => {
    expect(needsContinuation(shards)).toBe(want);
  });
});

describe("exit code of a stop", () => {
  const result = (cause: HaltCause | null, sent: number, outcome: PipelineResult["outcome"]): PipelineResult => {
    const halt = new Halt();
    if (cause) halt.stop(cause);
    return { outcome, halt, sent, dryRunChecked: 0, alreadySent: 0, alreadyFailed: 0, failed: [], inDoubt: [], duplicates: 0 };
  };
  it.each([
    ["budget spent after some were sent", result({ kind: "budget", seconds: 10 }, 5, "halted"), EXIT_CONTINUE],
    ["budget spent before the first message (a continuation would never move on)", result({ kind: "budget", seconds: 10 }, 0, "halted"), 1],
    ["SIGTERM", result({ kind: "signal", signal: "SIGTERM" }, 5, "halted"), 143],
    ["guard abort", result({ kind: "abort", reason: "guard" }, 5, "aborted"), 4],
    ["completed", result(null, 5, "completed"), 0],
  ] as Array<[string, PipelineResult, number]>)("%s → %d", (_name, r, code) => {
    expect(sendExitCode(r)).toBe(code);
  });
});

describe("schedule", () => {
  const at = "2026-12-08T10:00:00+09:00";
  it.each([
    [{}, "2026-12-01T00:00:00Z", "due"],
    [{ send_after: at }, "2026-12-08T00:59:59.999Z", "scheduled"],
    [{ send_after: at }, "2026-12-08T01:00:00Z", "due"],
    [{ send_after: at, cancelled: true }, "2026-12-08T02:00:00Z", "cancelled"],
    [{ cancelled: false }, "2026-12-08T02:00:00Z", "due"],
  ] as Array<[{ send_after?: string; cancelled?: boolean }, string, string]>)("%j at %s → %s", (meta, now, state) => {
    expect(scheduleOf(meta, new Date(now)).state).toBe(state);
  });
  it("says when in UTC and how far away", () => {
    expect(describeWhen(new Date("2026-12-08T01:00:00Z"), new Date("2026-12-06T22:55:00Z"))).toBe("2026-12-08T01:00:00.000Z (in 1 d 2 h 5 min)");
  });
});

describe("Message-IDs the relay confirmed", () => {
  it("reads one a line, brackets optional, comments and blank lines ignored, case-insensitive", () => {
    const ids = parseMessageIdList("# relay log\n<AB.x@corp.example>\n\ncd.x@corp.example\r\n", "f.txt");
    expect([...ids]).toEqual(["ab.x@corp.example", "cd.x@corp.example"]);
    const mid = (fp: string) => `${fp.toUpperCase()}.x@corp.example`;
    expect(confirmedInDoubt(["ab", "cd", "ef"], ids, mid).map((c) => c.fp)).toEqual(["ab", "cd"]);
  });
  it("refuses a line that is not a Message-ID, naming it", () => {
    expect(() => parseMessageIdList("<a@b>\nfoo bar\n", "f.txt")).toThrow(UsageError);
    expect(() => parseMessageIdList("<a@b>\nfoo bar\n", "f.txt")).toThrow(/f\.txt:2/);
  });
});
