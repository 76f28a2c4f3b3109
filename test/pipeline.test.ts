/**
 * The send loop with hand-made fakes for the transport and guard (ports),
 * and a real file ledger. The real-SMTP end-to-end tests are in send.test.ts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { GuardVerdict } from "../src/guard/port.ts";
import { FsLedgerStore } from "../src/ledger/fs-store.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { Halt } from "../src/send/halt.ts";
import { runPipeline, type PipelineOptions, type SendItem } from "../src/send/pipeline.ts";
import { formatSendSummary, sendExitCode } from "../src/send/summary.ts";
import { inDoubt } from "../src/ledger/state.ts";
import type { DeliveryResult, Envelope, MailTransport } from "../src/mail/port.ts";

function items(n: number): SendItem[] {
  return Array.from({ length: n }, (_, i) => ({
    fp: `fp${i}`,
    masked: `r***@e***.com`,
    build: () => ({
      envelope: { from: "news@corp.example", to: `r${i}@example.com` },
      raw: Buffer.from(`To: r${i}@example.com\r\n\r\nhi\r\n`),
      messageId: `m${i}@corp.example`,
      guard: { recipient: `r${i}@example.com`, allowAddresses: new Set(), allowDomains: [], ownAddresses: new Set() },
    }),
  }));
}

class FakeTransport implements MailTransport {
  readonly name = "fake";
  delivered: string[] = [];
  calls = 0;
  constructor(private readonly answer: (env: Envelope, call: number) => DeliveryResult = () => ({ ok: true, response: "250" })) {}
  async deliver(env: Envelope): Promise<DeliveryResult> {
    const r = this.answer(env, this.calls++);
    await new Promise((res) => setTimeout(res, 1));
    if (r.ok) this.delivered.push(env.to);
    return r;
  }
  async close() {}
}

const okGuard = (): GuardVerdict => ({ ok: true });
const base: PipelineOptions = {
  rate: 1e6, maxInFlight: 4, batchSize: 8, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: 0,
  retry: { baseMs: 1, capMs: 2, budgetMs: 200 },
};

async function ledger(dir = mkdtempSync(path.join(tmpdir(), "nl-pipe-"))) {
  const store = new FsLedgerStore(path.join(dir, "l.jsonl"));
  const l = await Ledger.open(store, {
    id: "2026-12-01-x", list: "c", listRows: 100, digest: "d".repeat(64), shard: "all", count: 100, secret: "s", now: () => new Date(),
  });
  return { l, dir };
}

describe("send pipeline", () => {
  it("sends everyone once, and a second run sends nothing", async () => {
    const { l, dir } = await ledger();
    const t = new FakeTransport();
    const r = await runPipeline(items(50), { transport: t, ledger: l, guard: okGuard }, base, new Halt());
    expect(r.sent).toBe(50);
    expect(new Set(t.delivered).size).toBe(50);
    await l.close();
    const { l: l2 } = await ledger(dir);
    const t2 = new FakeTransport(() => {
      throw new Error("this call must not happen");
    });
    const r2 = await runPipeline(items(50), { transport: t2, ledger: l2, guard: okGuard }, base, new Halt());
    expect(r2.sent).toBe(0);
    expect(r2.alreadySent).toBe(50);
    expect(t2.calls).toBe(0);
  });

  it("retries transient failures and records permanent ones", async () => {
    const { l } = await ledger();
    const attempts = new Map<string, number>();
    const t = new FakeTransport((env) => {
      const n = (attempts.get(env.to) ?? 0) + 1;
      attempts.set(env.to, n);
      if (env.to === "r3@example.com") return { ok: false, permanent: true, code: 550, message: "550 no such user" };
      // Every other recipient is refused twice with 421 before it is accepted.
      return n <= 2 && Number(env.to.slice(1, env.to.indexOf("@"))) % 2 === 0
        ? { ok: false, permanent: false, code: 421, message: "421 try later" }
        : { ok: true, response: "250" };
    });
    const r = await runPipeline(items(30), { transport: t, ledger: l, guard: okGuard }, { ...base, maxFailureRate: 1 }, new Halt());
    expect(r.failed.map((f) => f.fp)).toEqual(["fp3"]);
    expect(r.sent).toBe(29);
    expect(l.counts()).toMatchObject({ sent: 29, failed: 1, inDoubt: 0 });
    expect(attempts.get("r4@example.com")).toBe(3);
    expect(attempts.get("r3@example.com")).toBe(1); // permanent: never retried
  });

  it("a guard violation aborts: the message and all after it are never handed over", async () => {
    const { l } = await ledger();
    const t = new FakeTransport();
    const guard = (_raw: Buffer, env: Envelope): GuardVerdict =>
      env.to === "r10@example.com" ? { ok: false, reason: "foreign-address", where: "body/text/plain", masked: "o***@e***.com", detail: "x" } : { ok: true };
    const r = await runPipeline(items(40), { transport: t, ledger: l, guard }, base, new Halt());
    expect(r.outcome).toBe("aborted");
    expect(t.delivered).not.toContain("r10@example.com");
    expect(t.delivered.length).toBeLessThanOrEqual(10);
    // Released, not in doubt: they were never handed over.
    expect(l.counts().inDoubt).toBe(0);
  });

  it("the circuit breaker aborts when the failure rate exceeds the limit", async () => {
    const { l } = await ledger();
    const t = new FakeTransport(() => ({ ok: false, permanent: true, code: 550, message: "550" }));
    const r = await runPipeline(items(500), { transport: t, ledger: l, guard: okGuard }, base, new Halt());
    expect(r.outcome).toBe("aborted");
    expect(r.halt.cause).toMatchObject({ kind: "abort" });
    expect(t.calls).toBeLessThan(100);
  });

  it("throttling is not failure: it never trips the breaker, even at a failure limit of 0, and every message goes once", async () => {
    const { l } = await ledger();
    const attempts = new Map<string, number>();
    const t = new FakeTransport((env) => {
      const n = (attempts.get(env.to) ?? 0) + 1;
      attempts.set(env.to, n);
      return n <= 3 ? { ok: false, permanent: false, code: 450, message: "450 4.7.1 too much mail", pushback: "throttled" } : { ok: true, response: "250" };
    });
    const r = await runPipeline(items(60), { transport: t, ledger: l, guard: okGuard }, { ...base, maxFailureRate: 0 }, new Halt());
    expect(r.outcome).toBe("completed");
    expect(r.sent).toBe(60);
    expect(new Set(t.delivered).size).toBe(60);
    expect(l.counts()).toMatchObject({ sent: 60, failed: 0, inDoubt: 0 });
  });

  it("the same refusals without the throttling mark are failures: the breaker trips", async () => {
    const { l } = await ledger();
    const t = new FakeTransport(() => ({ ok: false, permanent: false, code: 450, message: "450 4.2.0 mailbox busy" }));
    const r = await runPipeline(items(60), { transport: t, ledger: l, guard: okGuard }, { ...base, maxFailureRate: 0.05, retry: { baseMs: 1, capMs: 1, budgetMs: 5 } }, new Halt());
    expect(r.outcome).toBe("aborted");
    expect(r.halt.cause).toMatchObject({ kind: "abort", reason: expect.stringContaining("circuit breaker") });
  });

  it("retries are bounded in time, not in count: a refusal for 150 ms is waited out at 1-2 ms backoff (dozens of attempts)", async () => {
    const { l } = await ledger();
    const t0 = Date.now();
    let calls = 0;
    const t = new FakeTransport(() => {
      calls++;
      return Date.now() - t0 < 150 ? { ok: false, permanent: false, code: 451, message: "451 4.3.0 try later" } : { ok: true, response: "250" };
    });
    const r = await runPipeline(items(2), { transport: t, ledger: l, guard: okGuard }, { ...base, maxFailureRate: 1, retry: { baseMs: 1, capMs: 2, budgetMs: 1000 } }, new Halt());
    expect(r.sent).toBe(2);
    expect(calls).toBeGreaterThan(12); // more than any fixed count this policy ever had (6)
  });

  it("refused credentials stop the send: the message is released (not failed), nothing more is claimed, exit 4", async () => {
    const { l } = await ledger();
    const t = new FakeTransport((_e, call) =>
      call >= 5 ? { ok: false, permanent: false, code: 535, message: "535 5.7.8 authentication failed", pushback: "auth" } : { ok: true, response: "250" },
    );
    const r = await runPipeline(items(100), { transport: t, ledger: l, guard: okGuard }, base, new Halt());
    expect(r.outcome).toBe("aborted");
    expect(r.halt.cause).toMatchObject({ kind: "abort", reason: expect.stringContaining("refused the credentials") });
    expect(sendExitCode(r)).toBe(4);
    expect(r.failed).toEqual([]);
    expect(l.counts()).toMatchObject({ sent: 5, failed: 0, inDoubt: 0 });
    expect(t.calls).toBeLessThanOrEqual(5 + base.maxInFlight);
  });

  it("a halt stops new messages at once and releases unsent claims", async () => {
    const { l } = await ledger();
    const halt = new Halt();
    const t = new FakeTransport((_e, call) => {
      if (call === 20) halt.stop({ kind: "signal", signal: "SIGTERM" });
      return { ok: true, response: "250" };
    });
    const r = await runPipeline(items(200), { transport: t, ledger: l, guard: okGuard }, base, halt);
    expect(r.outcome).toBe("halted");
    expect(t.calls).toBeLessThanOrEqual(20 + base.maxInFlight);
    expect(l.counts().inDoubt).toBe(0);
    expect(l.counts().sent).toBe(t.delivered.length);
  });

  it("skips in-doubt recipients unless asked to resend them", async () => {
    const { l, dir } = await ledger();
    await l.claim(["fp1", "fp2"]);
    await l.close();
    const { l: l2 } = await ledger(dir);
    const t = new FakeTransport();
    const r = await runPipeline(items(5), { transport: t, ledger: l2, guard: okGuard }, base, new Halt());
    expect(r.inDoubt.map((x) => x.fp)).toEqual(["fp1", "fp2"]);
    expect(t.delivered).toHaveLength(3);
    await l2.close();
    const { l: l3 } = await ledger(dir);
    const t3 = new FakeTransport();
    await runPipeline(items(5), { transport: t3, ledger: l3, guard: okGuard }, { ...base, resendInDoubt: true }, new Halt());
    expect(t3.delivered.sort()).toEqual(["r1@example.com", "r2@example.com"]);
  });

  it("a message in doubt (data out, no final reply) is never retried, gets no outcome, stays claimed: listed, exit 3; --resend-in-doubt sends it again", async () => {
    const { l, dir } = await ledger();
    const attempts = new Map<string, number>();
    const t = new FakeTransport((env) => {
      attempts.set(env.to, (attempts.get(env.to) ?? 0) + 1);
      return env.to === "r7@example.com" || env.to === "r21@example.com"
        ? { ok: false, inDoubt: true, message: "no reply to the end of data: ECONNECTION [DATA]: Connection closed" }
        : { ok: true, response: "250" };
    });
    const r = await runPipeline(items(30), { transport: t, ledger: l, guard: okGuard }, base, new Halt());
    expect(r.outcome).toBe("completed");
    expect(r.sent).toBe(28);
    expect(r.failed).toEqual([]);
    expect(r.inDoubt.map((x) => [x.fp, x.source])).toEqual([["fp7", "no-final-reply"], ["fp21", "no-final-reply"]]);
    expect(attempts.get("r7@example.com")).toBe(1); // never retried
    expect(attempts.get("r21@example.com")).toBe(1);
    expect(sendExitCode(r)).toBe(3);
    expect(l.counts()).toMatchObject({ sent: 28, failed: 0, inDoubt: 2, retryable: 0 });
    expect(inDoubt(l.state)).toEqual(["fp21", "fp7"]);
    const summary = formatSendSummary(r, { id: "x", shard: "all", transport: "fake", dryRun: false });
    expect(summary).toMatch(/IN DOUBT \(data handed over, no reply to its end.*--resend-in-doubt=FILE\): 2/);
    expect(summary).toContain("r***@e***.com  fp7");
    expect(summary).not.toMatch(/r\d+@example\.com/);
    await l.close();

    // A plain re-run: nothing sent, both still in doubt (from the earlier run now).
    const { l: l2 } = await ledger(dir);
    const t2 = new FakeTransport();
    const r2 = await runPipeline(items(30), { transport: t2, ledger: l2, guard: okGuard }, base, new Halt());
    expect(t2.calls).toBe(0);
    expect(r2.inDoubt.map((x) => [x.fp, x.source])).toEqual([["fp7", "earlier-run"], ["fp21", "earlier-run"]]);
    expect(sendExitCode(r2)).toBe(3);
    await l2.close();

    // The operator's choice: --resend-in-doubt sends exactly those two.
    const { l: l3 } = await ledger(dir);
    const t3 = new FakeTransport();
    const r3 = await runPipeline(items(30), { transport: t3, ledger: l3, guard: okGuard }, { ...base, resendInDoubt: true }, new Halt());
    expect(t3.delivered.sort()).toEqual(["r21@example.com", "r7@example.com"]);
    expect(sendExitCode(r3)).toBe(0);
    expect(l3.counts()).toMatchObject({ sent: 30, inDoubt: 0 });
  });

  it("in-doubt results count for the circuit breaker: a relay that loses every final reply stops the send", async () => {
    const { l } = await ledger();
    const t = new FakeTransport(() => ({ ok: false, inDoubt: true, message: "no reply" }));
    const r = await runPipeline(items(500), { transport: t, ledger: l, guard: okGuard }, base, new Halt());
    expect(r.outcome).toBe("aborted");
    expect(r.halt.cause).toMatchObject({ kind: "abort", reason: expect.stringMatching(/circuit breaker.*in doubt/) });
    expect(t.calls).toBeLessThan(100);
    expect(t.calls).toBe(r.inDoubt.length);
    // Exactly the handed-over ones are in doubt; claims never handed over were released.
    expect(l.counts().inDoubt).toBe(t.calls);
  });

  it("sends the canary, pauses, then the rest; a halt during the pause stops there", async () => {
    const { l } = await ledger();
    const halt = new Halt();
    const t = new FakeTransport();
    let pausedAfter = -1;
    const r = await runPipeline(
      items(30),
      { transport: t, ledger: l, guard: okGuard, onCanaryPause: (sent) => { pausedAfter = sent; setTimeout(() => halt.stop({ kind: "signal", signal: "SIGINT" }), 20); } },
      { ...base, canary: { size: 5, pauseMs: 60_000 } },
      halt,
    );
    expect(pausedAfter).toBe(5);
    expect(r.sent).toBe(5);
    expect(r.outcome).toBe("halted");
    expect(l.counts().inDoubt).toBe(0);
  });

  it("a dry run composes and guards every message but hands none over and writes no ledger", async () => {
    const { l } = await ledger();
    const t = new FakeTransport(() => {
      throw new Error("this call must not happen");
    });
    const r = await runPipeline(items(12), { transport: t, ledger: l, guard: okGuard }, { ...base, dryRun: true }, new Halt());
    expect(r.dryRunChecked).toBe(12);
    expect(t.calls).toBe(0);
  });
});
