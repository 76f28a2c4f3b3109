/**
 * The send loop's steps one at a time (src/send/loop/): each test changes one base world — six
 * recipients, a ledger and a transport that are hand-made fakes of plain fields, a guard that
 * passes everything — and calls one step on the loop's state. A port a step must leave alone is
 * replaced by one that records the call ("this call must not happen"). The loop as a whole, on a
 * real ledger, is tested in pipeline.test.ts; over real SMTP in send.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { GuardVerdict } from "../src/guard/port.ts";
import { Halt } from "../src/send/halt.ts";
import { acceptBuilt, buildHere, startBuild } from "../src/send/loop/build.ts";
import { canaryHolds, finish, mustStop } from "../src/send/loop/decide.ts";
import { deliver, retryDelay } from "../src/send/loop/deliver.ts";
import { dispatchGroup, handOver, waitForRoom } from "../src/send/loop/handover.ts";
import { takeSlot } from "../src/send/loop/pace.ts";
import { progressOf } from "../src/send/loop/progress.ts";
import { countFailure } from "../src/send/loop/record.ts";
import { fillAhead, formGroup, nextGroup } from "../src/send/loop/select.ts";
import { groupSizeFor, newLoopState, type LoopDeps, type LoopLedger, type LoopState } from "../src/send/loop/state.ts";
import type { Checked, PipelineOptions, SendItem } from "../src/send/pipeline-types.ts";
import type { DeliveryResult, Envelope, NotDelivered } from "../src/mail/port.ts";

type RecipientState = "claimed" | "sent" | "failed-permanent" | "failed-transient";

/** Calls to ports a step must not make: each test's world ends with this list empty, unless it says otherwise. */
let forbidden: string[] = [];
function never(what: string) {
  return (): never => {
    forbidden.push(what);
    throw new Error(`this call must not happen: ${what}`);
  };
}

function fakeLedger() {
  const states = new Map<string, RecipientState>();
  const l = {
    states,
    state: { recipients: states },
    claims: [] as string[][],
    sent: [] as Array<[string, string]>,
    failed: [] as Array<{ fp: string; permanent: boolean; reason: string; code?: number }>,
    released: [] as string[],
    flushes: 0,
    ends: [] as Array<[string, string | undefined]>,
    claim(fps: readonly string[]): Promise<void> {
      l.claims.push([...fps]);
      for (const fp of fps) states.set(fp, "claimed");
      return Promise.resolve();
    },
    recordSent(fp: string, mid: string) {
      l.sent.push([fp, mid]);
    },
    recordFailed(fp: string, permanent: boolean, reason: string, code?: number) {
      l.failed.push({ fp, permanent, reason, ...(code !== undefined ? { code } : {}) });
    },
    release(fps: readonly string[]) {
      l.released.push(...fps);
    },
    flush(): Promise<void> {
      l.flushes++;
      return Promise.resolve();
    },
    end(outcome: string, detail?: string): Promise<void> {
      l.ends.push([outcome, detail]);
      return Promise.resolve();
    },
  } satisfies LoopLedger & Record<string, unknown>;
  return l;
}

const OK: DeliveryResult = { ok: true, response: "250" };
const TEMP: NotDelivered = { ok: false, permanent: false, code: 451, message: "451 4.3.0 try later" };
const GONE: NotDelivered = { ok: false, permanent: true, code: 550, message: "550 5.1.1 no such user" };
const THROTTLED: NotDelivered = { ok: false, permanent: false, code: 450, message: "450 4.7.1 slow down", pushback: "throttled" };
const AUTH: NotDelivered = { ok: false, permanent: false, code: 535, message: "535 5.7.8 authentication failed", pushback: "auth" };
const LOST: DeliveryResult = { ok: false, inDoubt: true, message: "no reply to the end of data" };

/** A transport answering each recipient from its script in order (the last answer repeats), else OK. */
function fakeTransport() {
  const t = {
    name: "fake",
    script: {} as Record<string, Array<DeliveryResult | "throw">>,
    calls: [] as string[],
    onCall: (_to: string, _n: number): void => undefined,
    async deliver(env: Envelope): Promise<DeliveryResult> {
      t.calls.push(env.to);
      const mine = t.calls.filter((c) => c === env.to).length;
      t.onCall(env.to, t.calls.length);
      const answers = t.script[env.to] ?? [OK];
      const a = answers[Math.min(mine, answers.length) - 1]!;
      await Promise.resolve();
      if (a === "throw") throw new TypeError("socket gone");
      return a;
    },
    async close() {},
  };
  return t;
}

function item(i: number): SendItem {
  return {
    fp: `fp${i}`,
    masked: "r***@e***.example",
    build: () => ({
      envelope: { from: "news@corp.example", to: `r${i}@example.com` },
      raw: Buffer.from(`To: r${i}@example.com\r\n\r\nhi\r\n`),
      messageId: `m${i}@corp.example`,
      guard: { recipient: `r${i}@example.com`, allowAddresses: new Set(), allowDomains: [], ownAddresses: new Set() },
    }),
  };
}

function checked(it: SendItem): Checked {
  const { envelope, raw, messageId } = it.build();
  return { envelope, raw, messageId };
}

interface World {
  items: SendItem[];
  ledger: ReturnType<typeof fakeLedger>;
  transport: ReturnType<typeof fakeTransport>;
  guard: (raw: Buffer, env: Envelope) => GuardVerdict;
  deps: Partial<LoopDeps>;
  opts: PipelineOptions;
  halt: Halt;
}

/** The base world, changed by `edit`, and the loop's state over it. */
function world(edit: (w: World) => void = () => undefined): World & { loop: LoopState } {
  forbidden = [];
  const w: World = {
    items: Array.from({ length: 6 }, (_, i) => item(i)),
    ledger: fakeLedger(),
    transport: fakeTransport(),
    guard: () => ({ ok: true }),
    deps: {},
    opts: {
      rate: 1e6, maxInFlight: 4, batchSize: 8, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: 6,
      retry: { baseMs: 1, capMs: 2, budgetMs: 40 },
    },
    halt: new Halt(),
  };
  edit(w);
  const deps: LoopDeps = { transport: w.transport, ledger: w.ledger, guard: w.guard, ...w.deps };
  return { ...w, loop: newLoopState(w.items, deps, w.opts, w.halt) };
}

const refuse = (reason: string): GuardVerdict => ({ ok: false, reason: "foreign-address", where: "body/text/plain", masked: reason, detail: "x" });

describe("select: which recipients go next", () => {
  it.each([
    { opts: { batchSize: 8, maxInFlight: 4 }, size: 2 },
    { opts: { batchSize: 8, maxInFlight: 40 }, size: 8 },
    { opts: { batchSize: 100, maxInFlight: 40 }, size: 20 },
    { opts: { batchSize: 1, maxInFlight: 40 }, size: 1 },
    { opts: { batchSize: 8, maxInFlight: 1 }, size: 1 },
    { opts: { batchSize: 0, maxInFlight: 0 }, size: 1 },
  ])("a group is at most half the window and the batch size, never empty: $opts → $size", ({ opts, size }) => {
    expect(groupSizeFor(opts)).toBe(size);
  });

  it.each([
    {
      name: "nothing settled: every recipient, in list order",
      edit: () => undefined, groups: [["fp0", "fp1"], ["fp2", "fp3"], ["fp4", "fp5"]], counts: { alreadySent: 0, alreadyFailed: 0, duplicates: 0 }, inDoubt: [],
    },
    {
      name: "settled by an earlier run: skipped and counted; retryable failures go again",
      edit: (w: World) => {
        w.ledger.states.set("fp1", "sent");
        w.ledger.states.set("fp2", "failed-permanent");
        w.ledger.states.set("fp3", "claimed");
        w.ledger.states.set("fp4", "failed-transient");
      },
      groups: [["fp0", "fp4"], ["fp5"]], counts: { alreadySent: 1, alreadyFailed: 1, duplicates: 0 }, inDoubt: ["fp3"],
    },
    {
      name: "--resend-in-doubt: a recipient claimed by an earlier run goes again",
      edit: (w: World) => {
        w.ledger.states.set("fp3", "claimed");
        w.opts.resendInDoubt = true;
      },
      groups: [["fp0", "fp1"], ["fp2", "fp3"], ["fp4", "fp5"]], counts: { alreadySent: 0, alreadyFailed: 0, duplicates: 0 }, inDoubt: [],
    },
    {
      name: "a recipient listed twice within a group (not yet claimed) is dropped",
      edit: (w: World) => {
        w.items = [item(0), item(0), item(1), item(2)];
      },
      groups: [["fp0", "fp1"], ["fp2"]], counts: { alreadySent: 0, alreadyFailed: 0, duplicates: 1 }, inDoubt: [],
    },
    {
      name: "the canary's group is cut to the canary's exact size",
      edit: (w: World) => {
        w.opts.canary = { size: 3, pauseMs: 1 };
      },
      groups: [["fp0", "fp1"], ["fp2"], ["fp3", "fp4"], ["fp5"]], counts: { alreadySent: 0, alreadyFailed: 0, duplicates: 0 }, inDoubt: [],
    },
  ])("formGroup: $name", async ({ edit, groups, counts, inDoubt }) => {
    const { loop } = world(edit);
    const got: string[][] = [];
    for (let g = await formGroup(loop); g !== null; g = await formGroup(loop)) got.push(g.map((x) => x.fp));
    expect(got).toEqual(groups);
    expect(loop.result).toMatchObject(counts);
    expect(loop.result.inDoubt.map((x) => [x.fp, x.source])).toEqual(inDoubt.map((fp) => [fp, "earlier-run"]));
    expect(loop.formed).toBe(groups.flat().length);
  });

  it("a recipient already claimed in this run (a later duplicate) is dropped by the ledger's state", async () => {
    const { loop, ledger } = world((w) => {
      w.items = [item(0), item(1), item(0)];
    });
    const first = (await formGroup(loop))!;
    await ledger.claim(first.map((x) => x.fp));
    loop.forming.clear();
    expect(await formGroup(loop)).toBeNull();
    expect(loop.result.inDoubt.map((x) => x.fp)).toEqual(["fp0"]); // claimed, not resent
  });

  it("with compose threads, groups are composed ahead (up to three) and handed out oldest first; none ahead without them", async () => {
    const built: string[][] = [];
    const { loop } = world((w) => {
      w.deps.buildGroup = async (g) => {
        built.push(g.map((x) => x.fp));
        return { messages: g.map(checked) };
      };
    });
    await fillAhead(loop);
    expect(built).toEqual([["fp0", "fp1"], ["fp2", "fp3"], ["fp4", "fp5"]]);
    expect((await nextGroup(loop))!.group.map((x) => x.fp)).toEqual(["fp0", "fp1"]);
    expect(loop.ahead).toHaveLength(2);

    const here = world().loop;
    await fillAhead(here);
    expect(here.ahead).toHaveLength(0);
    const next = (await nextGroup(here))!;
    expect(next.group.map((x) => x.fp)).toEqual(["fp0", "fp1"]);
    expect(next.built).toBeUndefined(); // composed after its claim is written, not before
  });
});

describe("build: compose and guard before anything is handed over", () => {
  it("stops at the first message the guard refuses: nothing after it is even composed", () => {
    const { loop } = world((w) => {
      w.guard = (_raw, env) => (env.to === "r1@example.com" ? refuse("first") : { ok: true });
    });
    const built = buildHere(loop, [item(0), item(1), { ...item(2), build: never("compose after a refusal") }]);
    expect(built.messages.map((m) => m.messageId)).toEqual(["m0@corp.example"]);
    expect(built.violation).toMatchObject({ masked: "first" });
    expect(forbidden).toEqual([]);
  });

  it.each([
    { name: "no violation: the messages", violations: [] as string[], halted: false, kept: undefined },
    { name: "a violation: nothing, the send aborts", violations: ["first"], halted: true, kept: "first" },
    { name: "two groups refused: the first violation is the one reported", violations: ["first", "second"], halted: true, kept: "first" },
  ])("acceptBuilt — $name", ({ violations, halted, kept }) => {
    const { loop, halt } = world();
    const outs = violations.length === 0 ? acceptBuilt(loop, { messages: [checked(item(0))] }) : null;
    for (const v of violations) expect(acceptBuilt(loop, { messages: [], violation: refuse(v) as Extract<GuardVerdict, { ok: false }> })).toBeNull();
    if (outs) expect(outs).toHaveLength(1);
    expect(halt.halted).toBe(halted);
    if (halted) expect(halt.cause).toMatchObject({ kind: "abort", reason: "guard: foreign-address in body/text/plain (first)" });
    expect(loop.result.guardViolation?.masked).toBe(kept);
  });

  it("with compose threads the group is built there: no message is composed on this thread", async () => {
    const { loop } = world((w) => {
      w.deps.buildGroup = async () => ({ messages: [checked(item(0))] });
    });
    expect(await startBuild(loop, [{ ...item(0), build: never("compose on the loop's thread") }])).toHaveLength(1);
    expect(forbidden).toEqual([]);
  });

  it("a message that cannot be composed rejects the build (the hand-over then releases the group)", async () => {
    const { loop } = world();
    const broken: SendItem = { ...item(0), build: () => { throw new Error("template broke"); } };
    await expect(startBuild(loop, [broken])).rejects.toThrow("template broke");
  });
});

describe("deliver and record: one message until it has an outcome", () => {
  it.each([
    {
      name: "accepted: recorded sent with its Message-ID",
      answers: [OK], calls: 1, sent: [["fp0", "m0@corp.example"]], failed: [], released: [], inDoubt: 0, breaker: [1, 0], cause: null,
    },
    {
      name: "refused for good: recorded failed, never retried",
      answers: [GONE], calls: 1, sent: [], failed: [{ fp: "fp0", permanent: true, code: 550 }], released: [], inDoubt: 0, breaker: [1, 1], cause: null,
    },
    {
      name: "refused for now, then accepted: retried",
      answers: [TEMP, TEMP, OK], calls: 3, sent: [["fp0", "m0@corp.example"]], failed: [], released: [], inDoubt: 0, breaker: [1, 0], cause: null,
    },
    {
      name: "a transport that throws is a transient failure: retried",
      answers: ["throw" as const, OK], calls: 2, sent: [["fp0", "m0@corp.example"]], failed: [], released: [], inDoubt: 0, breaker: [1, 0], cause: null,
    },
    {
      name: "refused for now until the budget is spent: failed, retryable",
      answers: [TEMP], calls: "many", sent: [], failed: [{ fp: "fp0", permanent: false, code: 451 }], released: [], inDoubt: 0, breaker: [1, 1], cause: null,
    },
    {
      name: "no final reply: in doubt, no outcome in the ledger, never retried",
      answers: [LOST], calls: 1, sent: [], failed: [], released: [], inDoubt: 1, breaker: [1, 1], cause: null,
    },
    {
      name: "credentials refused: released (not failed), the send stops",
      answers: [AUTH], calls: 1, sent: [], failed: [], released: ["fp0"], inDoubt: 0, breaker: [0, 0], cause: /refused the credentials/,
    },
    {
      name: "throttled then accepted: not a failure",
      answers: [THROTTLED, OK], calls: 2, sent: [["fp0", "m0@corp.example"]], failed: [], released: [], inDoubt: 0, breaker: [1, 0], cause: null,
    },
    {
      name: "throttled for the whole budget: recorded retryable, the send stops, the breaker never hears of it",
      answers: [THROTTLED], calls: "many", sent: [], failed: [{ fp: "fp0", permanent: false, code: 450 }], released: [], inDoubt: 0, breaker: [0, 0], cause: /kept throttling/,
    },
  ])("$name", async ({ answers, calls, sent, failed, released, inDoubt, breaker, cause }) => {
    const { loop, ledger, transport, halt } = world((w) => {
      w.transport.script["r0@example.com"] = answers;
    });
    await deliver(loop, item(0), checked(item(0)));
    if (calls === "many") expect(transport.calls.length).toBeGreaterThan(2);
    else expect(transport.calls).toHaveLength(calls as number);
    expect(ledger.sent).toEqual(sent);
    expect(ledger.failed).toMatchObject(failed);
    expect(loop.result.failed.map((f) => f.fp)).toEqual(failed.map((f) => f.fp));
    expect(loop.result.sent).toBe(sent.length);
    expect(ledger.released).toEqual(released);
    expect(loop.result.inDoubt.map((x) => x.source)).toEqual(Array(inDoubt).fill("no-final-reply"));
    expect([loop.breaker.samples, loop.breaker.samples * loop.breaker.rate]).toEqual(breaker);
    if (cause === null) expect(halt.cause).toBeNull();
    else expect(halt.cause).toMatchObject({ kind: "abort", reason: expect.stringMatching(cause) });
  });

  it("a halt during the backoff gives the message up: recorded retryable, not retried", async () => {
    const { loop, ledger, transport, halt } = world((w) => {
      w.transport.script["r0@example.com"] = [TEMP];
      w.opts.retry = { baseMs: 60_000, capMs: 60_000, budgetMs: 600_000 };
    });
    const done = deliver(loop, item(0), checked(item(0)));
    setTimeout(() => halt.stop({ kind: "signal", signal: "SIGTERM" }), 5);
    await done;
    expect(transport.calls).toHaveLength(1);
    expect(ledger.failed).toMatchObject([{ fp: "fp0", permanent: false }]);
  });

  it("a retry takes its turn under the rate like any message: none while the rate allows none", async () => {
    const { loop, transport, halt } = world((w) => {
      w.transport.script["r0@example.com"] = [TEMP, OK];
      w.opts.rate = 0.001; // one per 1,000 s
    });
    loop.lastSlotAt = Date.now(); // the first attempt took the last turn
    const done = deliver(loop, item(0), checked(item(0)));
    setTimeout(() => halt.stop({ kind: "signal", signal: "SIGTERM" }), 20);
    await done;
    expect(transport.calls).toHaveLength(1);
    expect(loop.result.failed.map((f) => f.permanent)).toEqual([false]);
  });

  it.each([
    { name: "transient, within the budget: the backoff", res: TEMP, attempt: 1, elapsed: 0, halted: false, wait: 1 },
    { name: "the backoff doubles (up to its cap)", res: TEMP, attempt: 2, elapsed: 0, halted: false, wait: 2 },
    { name: "permanent: give up", res: GONE, attempt: 1, elapsed: 0, halted: false, wait: null },
    { name: "halted: give up", res: TEMP, attempt: 1, elapsed: 0, halted: true, wait: null },
    { name: "the wait would end past the budget: give up", res: TEMP, attempt: 1, elapsed: 40, halted: false, wait: null },
    { name: "the wait ends exactly at the budget: wait", res: TEMP, attempt: 2, elapsed: 38, halted: false, wait: 2 },
  ])("retryDelay — $name", ({ res, attempt, elapsed, halted, wait }) => {
    const { loop } = world((w) => {
      w.deps.now = () => 1000 + elapsed;
      w.deps.random = () => 1;
      if (halted) w.halt.stop({ kind: "signal", signal: "SIGINT" });
    });
    expect(retryDelay(loop, res, attempt, 1000)).toBe(wait);
  });

  it.each([
    { name: "below the minimum of samples: never opens", before: { ok: 0, failed: 10 }, opens: false },
    { name: "over the limit: opens, and says by how much", before: { ok: 45, failed: 4 }, opens: true },
    { name: "within the limit: stays shut", before: { ok: 95, failed: 4 }, opens: false },
  ])("countFailure — $name", ({ before, opens }) => {
    const { loop, halt } = world();
    for (let k = 0; k < before.ok; k++) loop.breaker.record(false);
    for (let k = 0; k < before.failed; k++) loop.breaker.record(true);
    countFailure(loop);
    expect(halt.halted).toBe(opens);
    if (opens) expect(halt.cause).toMatchObject({ reason: expect.stringMatching(/^circuit breaker: 10\.0 % of the last 50 messages .*limit 5\.0 %/) });
  });
});

describe("pace: one message every 1/rate seconds", () => {
  it.each([
    { name: "the first message goes at once", last: -Infinity, rate: 10, lastAfter: 1000 },
    { name: "due within the timer's slack: goes at once, on its due time (the average holds)", last: 999.5, rate: 1000, lastAfter: 1000.5 },
    { name: "overdue: goes at once, on the clock", last: 500, rate: 10, lastAfter: 1000 },
  ])("$name", async ({ last, rate, lastAfter }) => {
    const { loop } = world((w) => {
      w.opts.rate = rate;
      w.deps.now = () => 1000;
    });
    loop.lastSlotAt = last;
    await takeSlot(loop);
    expect(loop.lastSlotAt).toBe(lastAfter);
  });

  it("a message waiting for its turn goes at once when the send halts, taking no turn", async () => {
    const { loop, halt } = world((w) => {
      w.opts.rate = 0.001; // one per 1,000 s
      w.deps.now = () => 1000;
    });
    loop.lastSlotAt = 999;
    setTimeout(() => halt.stop({ kind: "signal", signal: "SIGINT" }), 5);
    await takeSlot(loop);
    expect(loop.lastSlotAt).toBe(999);
  });
});

describe("hand over: after the claim, in order, releasing what does not go", () => {
  const group = () => [item(0), item(1), item(2)];
  const outs = () => group().map(checked);

  it.each([
    {
      name: "go: every message handed over, nothing released",
      edit: () => undefined, built: "ok" as const, go: true, returns: true, calls: 3, released: [],
    },
    {
      name: "an earlier hand-over failed (go = false): all released, none handed over",
      edit: () => undefined, built: "ok" as const, go: false, returns: false, calls: 0, released: ["fp0", "fp1", "fp2"],
    },
    {
      name: "the guard refused a message of the group: all released",
      edit: () => undefined, built: "refused" as const, go: true, returns: false, calls: 0, released: ["fp0", "fp1", "fp2"],
    },
    {
      name: "composing failed: all released, the error goes on",
      edit: () => undefined, built: "broken" as const, go: true, returns: "throws", calls: 0, released: ["fp0", "fp1", "fp2"],
    },
    {
      name: "a halt after the second hand-over: the third is released",
      edit: (w: World) => {
        w.transport.onCall = (_to, n) => {
          if (n === 2) w.halt.stop({ kind: "signal", signal: "SIGTERM" });
        };
      },
      built: "ok" as const, go: true, returns: false, calls: 2, released: ["fp2"],
    },
  ])("$name", async ({ edit, built, go, returns, calls, released }) => {
    const { loop, ledger, transport } = world(edit);
    loop.reserved = 3;
    const b = built === "ok" ? Promise.resolve(outs()) : built === "refused" ? Promise.resolve(null) : Promise.reject(new Error("template broke"));
    const h = handOver(loop, group(), b, Promise.resolve(), go);
    if (returns === "throws") await expect(h).rejects.toThrow("template broke");
    else expect(await h).toBe(returns);
    await Promise.all(loop.inflight);
    expect(transport.calls).toHaveLength(calls);
    expect(ledger.released).toEqual(released);
    expect(loop.reserved).toBe(0);
    expect(loop.launched).toBe(calls);
  });

  it("a claim is written when the group is dispatched, and from then on the ledger (not the loop) holds its recipients", async () => {
    const { loop, ledger } = world();
    const g = (await formGroup(loop))!;
    expect([...loop.forming]).toEqual(["fp0", "fp1"]);
    dispatchGroup(loop, g);
    expect(ledger.claims).toEqual([["fp0", "fp1"]]); // before the hand-over, before composing
    expect(loop.forming.size).toBe(0);
    expect(loop.reserved).toBe(2);
    expect(await loop.chain).toBe(true);
    await Promise.all(loop.inflight);
    expect(ledger.sent.map(([fp]) => fp)).toEqual(["fp0", "fp1"]);
    expect(loop.reserved).toBe(0);
  });

  it("a dry run counts each message and hands none over; it releases nothing, having claimed nothing", async () => {
    const { loop, ledger } = world((w) => {
      w.opts.dryRun = true;
      w.transport.deliver = never("deliver in a dry run");
      w.ledger.release = never("release in a dry run");
      w.ledger.claim = never("claim in a dry run");
    });
    loop.reserved = 3;
    dispatchGroup(loop, group());
    expect(await loop.chain).toBe(true);
    expect(loop.result.dryRunChecked).toBe(3);
    expect(ledger.claims).toEqual([]);
    expect(forbidden).toEqual([]);
  });

  it("a claim that cannot be written fails the send: its group and every later one are released, none handed over", async () => {
    const { loop, ledger, transport } = world((w) => {
      w.ledger.claim = (fps) => {
        w.ledger.claims.push([...fps]);
        return w.ledger.claims.length === 1 ? Promise.reject(new Error("disk full")) : Promise.resolve();
      };
    });
    dispatchGroup(loop, [item(0), item(1)]);
    dispatchGroup(loop, [item(2), item(3)]);
    expect(await loop.chain).toBe(false);
    expect((loop.failure?.error as Error).message).toBe("disk full");
    expect(mustStop(loop)).toBe(true);
    expect(transport.calls).toEqual([]);
    expect(ledger.released).toEqual(["fp0", "fp1", "fp2", "fp3"]);
    expect(loop.reserved).toBe(0);
  });

  it("the canary: once it is out its outcomes are made durable, the operator is told, and the pause ends at a halt", async () => {
    const told: Array<[number, number]> = [];
    const { loop, ledger, halt } = world((w) => {
      w.opts.canary = { size: 3, pauseMs: 60_000 };
      w.deps.onCanaryPause = (sent, ms) => {
        told.push([sent, ms]);
        setTimeout(() => halt.stop({ kind: "signal", signal: "SIGINT" }), 5);
      };
    });
    loop.reserved = 3;
    expect(canaryHolds(loop)).toBe(true);
    expect(await handOver(loop, group(), Promise.resolve(outs()), Promise.resolve(), true)).toBe(false);
    expect(told).toEqual([[3, 60_000]]);
    expect(ledger.flushes).toBe(1);
    expect(loop.canaryDone).toBe(true);
    expect(canaryHolds(loop)).toBe(false);
  });

  it("a group waits for room: claimed without an outcome never exceeds maxInFlight", async () => {
    const { loop } = world(); // maxInFlight 4, groups of 2
    let settle!: () => void;
    const p: Promise<void> = new Promise<void>((r) => (settle = r)).then(() => void loop.inflight.delete(p));
    loop.inflight.add(p);
    loop.reserved = 2;
    let roomAt = "";
    const waiting = waitForRoom(loop).then(() => (roomAt = `inflight ${loop.inflight.size}`));
    await new Promise((r) => setTimeout(r, 5));
    expect(roomAt).toBe("");
    settle();
    await waiting;
    expect(roomAt).toBe("inflight 0");
  });
});

describe("decide: halt or continue, and the end", () => {
  it.each([
    { name: "running", halted: false, failed: false, stop: false },
    { name: "halted", halted: true, failed: false, stop: true },
    { name: "a hand-over failed", halted: false, failed: true, stop: true },
  ])("mustStop — $name", ({ halted, failed, stop }) => {
    const { loop } = world((w) => {
      if (halted) w.halt.stop({ kind: "signal", signal: "SIGINT" });
    });
    if (failed) loop.failure = { error: new Error("x") };
    expect(mustStop(loop)).toBe(stop);
  });

  it.each([
    { name: "no canary", canary: undefined, launched: 0, reserved: 0, holds: false },
    { name: "canary of 0", canary: 0, launched: 0, reserved: 0, holds: false },
    { name: "canary not yet all claimed", canary: 5, launched: 2, reserved: 2, holds: false },
    { name: "canary all claimed, not yet paused", canary: 5, launched: 3, reserved: 2, holds: true },
  ])("canaryHolds — $name", ({ canary, launched, reserved, holds }) => {
    const { loop } = world((w) => {
      if (canary !== undefined) w.opts.canary = { size: canary, pauseMs: 1 };
    });
    loop.launched = launched;
    loop.reserved = reserved;
    expect(canaryHolds(loop)).toBe(holds);
  });

  it.each([
    { name: "completed", stop: null, dryRun: false, outcome: "completed", end: [["completed", undefined]] },
    { name: "a signal halts", stop: { kind: "signal" as const, signal: "SIGTERM" as const }, dryRun: false, outcome: "halted", end: [["halted", "SIGTERM"]] },
    { name: "a spent time budget halts", stop: { kind: "budget" as const, seconds: 60 }, dryRun: false, outcome: "halted", end: [["halted", "time budget of 60 s spent"]] },
    { name: "the breaker aborts", stop: { kind: "abort" as const, reason: "circuit breaker" }, dryRun: false, outcome: "aborted", end: [["aborted", "circuit breaker"]] },
    { name: "a dry run writes no end record", stop: null, dryRun: true, outcome: "completed", end: [] },
  ])("finish — $name", async ({ stop, dryRun, outcome, end }) => {
    const { loop, ledger } = world((w) => {
      if (stop) w.halt.stop(stop);
      w.opts.dryRun = dryRun;
      if (dryRun) w.ledger.end = never("end record in a dry run");
    });
    expect((await finish(loop)).outcome).toBe(outcome);
    expect(ledger.ends).toEqual(end);
    expect(forbidden).toEqual([]);
  });
});

describe("progress", () => {
  it.each([
    { name: "nothing yet", sent: 0, failed: [], skipped: 0, elapsed: 0, eta: null, rate: 0 },
    { name: "all done: nothing left", sent: 6, failed: [], skipped: 0, elapsed: 2000, eta: 0, rate: 3 },
    { name: "half way at 2/s", sent: 2, failed: [], skipped: 0, elapsed: 1000, eta: 2, rate: 2 },
    { name: "failures split into refused and retryable; skipped ones are not left", sent: 1, failed: [true, false], skipped: 1, elapsed: 1000, eta: 2 / 3, rate: 3 },
  ])("$name", ({ sent, failed, skipped, elapsed, eta, rate }) => {
    let t = 1000;
    const { loop } = world((w) => {
      w.deps.now = () => t;
    });
    t += elapsed;
    loop.result.sent = sent;
    loop.result.alreadySent = skipped;
    for (const permanent of failed) loop.result.failed.push({ fp: "x", masked: "x", permanent, reason: "x" });
    expect(progressOf(loop)).toMatchObject({
      sent, failed: failed.filter(Boolean).length, retryable: failed.filter((p) => !p).length, skipped, total: 6, ratePerSec: rate, etaSec: eta,
    });
  });
});
