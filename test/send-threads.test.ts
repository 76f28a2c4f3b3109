/**
 * The fast send path end to end: compose threads (src/send/build-pool.ts)
 * and the raw hand-over to nodemailer's pool (src/transport/smtp-raw.ts)
 * deliver exactly the composed bytes, one recipient each, and the guard in
 * the compose thread still aborts the whole send.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mask } from "../src/address/mask.ts";
import { guardMessage } from "../src/guard/guard.ts";
import { FsLedgerStore } from "../src/ledger/fs-store.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { availableParallelism } from "node:os";
import { BuildPool, composeThreads, MIN_RECIPIENTS_FOR_THREADS } from "../src/send/build-pool.ts";
import { Halt } from "../src/send/halt.ts";
import { runPipeline, type SendItem } from "../src/send/pipeline.ts";
import { makePlan, type PlanInput } from "../src/send/plan.ts";
import { listRows } from "../src/send/recipients.ts";
import { createSmtpTransport } from "../src/transport/smtp.ts";
import { runCli, sampleText } from "./helpers/repo.ts";
import { fastConfig, generatedList, recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
let server: TestSmtp | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function planInput(body: string, list: string): { input: PlanInput; rows: ReturnType<typeof listRows> extends Generator<infer R> ? R[] : never } {
  const config = parseConfig(fastConfig()).config!;
  const meta = parseNewsletterMeta(sampleText(`${SAMPLE_DIR}/newsletter.yml`), "n.yml").meta!;
  const input: PlanInput = { id: "2026-12-01-winter-update", config, meta, body, digest: "d".repeat(64), secret: SECRET, date: new Date(Date.UTC(2026, 11, 1, 9)) };
  return { input, rows: [...listRows(Buffer.from(list), "recipients/customers.csv", new Set())] };
}

async function openLedger(dir: string, n: number): Promise<Ledger> {
  return Ledger.open(new FsLedgerStore(path.join(dir, "l.jsonl")), {
    id: "x", list: "customers", listRows: n, digest: "d".repeat(64), shard: "all", count: n, secret: SECRET, now: () => new Date(),
  });
}

describe("compose threads and the raw hand-over", () => {
  it("one compose thread by default on a machine with a second core and a big list; none for a small list or when turned off", () => {
    const second = availableParallelism() > 1 ? 1 : 0;
    expect(composeThreads({}, MIN_RECIPIENTS_FOR_THREADS)).toBe(second);
    expect(composeThreads({ NEWSLETTER_COMPOSE_THREADS: "" }, MIN_RECIPIENTS_FOR_THREADS)).toBe(second);
    expect(composeThreads({}, MIN_RECIPIENTS_FOR_THREADS - 1)).toBe(0);
    expect(composeThreads({ NEWSLETTER_COMPOSE_THREADS: "0" }, 1_000_000)).toBe(0);
    expect(composeThreads({ NEWSLETTER_COMPOSE_THREADS: "2" }, 10)).toBe(2);
    expect(composeThreads({ NEWSLETTER_COMPOSE_THREADS: "lots" }, 1_000_000)).toBe(0);
  });

  it("the CLI with a compose thread sends everyone once, one recipient per message", async () => {
    server = await startTestSmtp();
    const n = 400;
    const root = sendRepo(n);
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], {
      env: { NEWSLETTER_SMTP_URL: server.url, NEWSLETTER_SECRET: SECRET, NEWSLETTER_COMPOSE_THREADS: "1" },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(server.received).toHaveLength(n - 1); // one suppressed
    const to = server.received.map((m) => m.envelope.to);
    expect(to.every((t) => t.length === 1)).toBe(true);
    expect(new Set(to.map((t) => t[0])).size).toBe(n - 1);
  }, 120_000);

  it("the server receives exactly the composed bytes (no header added, nothing rewritten), from a thread or not", async () => {
    server = await startTestSmtp();
    const n = 60;
    const { input, rows } = planInput(sampleText(`${SAMPLE_DIR}/body.md`), generatedList(n));
    const plan = makePlan(input);
    const items: SendItem[] = rows.map((r) => {
      const fp = plan.fingerprintOf(r.address);
      return { fp, masked: mask(r.address), build: () => plan.messageFor(r.address, r.row, fp), recipient: r };
    });
    const pool = new BuildPool(input, 1);
    const dir = sendRepo(1);
    const ledger = await openLedger(dir, n);
    const transport = createSmtpTransport(server.url, { connections: 3 });
    const half = Math.floor(n / 2);
    const opts = { rate: 1e6, maxInFlight: 8, batchSize: 4, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: n };
    try {
      await runPipeline(items.slice(0, half), { transport, ledger, guard: guardMessage, buildGroup: pool.build }, opts, new Halt());
      await runPipeline(items.slice(half), { transport, ledger, guard: guardMessage }, opts, new Halt());
    } finally {
      await pool.close();
      await transport.close();
      await ledger.close();
    }
    expect(server.received).toHaveLength(n);
    const byRecipient = new Map(server.received.map((m) => [m.envelope.to[0]!, m.raw]));
    for (const r of rows) {
      const want = plan.referenceMessageFor(r.address, r.row).raw;
      expect(byRecipient.get(r.address)?.equals(want), mask(r.address)).toBe(true);
    }
  }, 120_000);

  it("a recipient listed twice (which the checks refuse) is still mailed once: in one group, across groups, ahead of its claim", async () => {
    server = await startTestSmtp();
    const n = 30;
    const { input, rows } = planInput("Hello {{ first_name }}", generatedList(n));
    const plan = makePlan(input);
    const items: SendItem[] = rows.map((r) => {
      const fp = plan.fingerprintOf(r.address);
      return { fp, masked: mask(r.address), build: () => plan.messageFor(r.address, r.row, fp), recipient: r };
    });
    const twice = [items[0]!, items[0]!, ...items.slice(1, 12), items[5]!, ...items.slice(12), items[20]!, items[1]!];
    const pool = new BuildPool(input, 1);
    const ledger = await openLedger(sendRepo(1), n);
    const transport = createSmtpTransport(server.url, { connections: 2 });
    let result;
    try {
      result = await runPipeline(twice, { transport, ledger, guard: guardMessage, buildGroup: pool.build }, {
        rate: 1e6, maxInFlight: 8, batchSize: 4, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: twice.length,
      }, new Halt());
    } finally {
      await pool.close();
      await transport.close();
      await ledger.close();
    }
    const counts = new Map<string, number>();
    for (const m of server.received) counts.set(m.envelope.to[0]!, (counts.get(m.envelope.to[0]!) ?? 0) + 1);
    expect([...counts].filter(([, c]) => c > 1).map(([a]) => rows.findIndex((r) => r.address === a))).toEqual([]);
    expect(server.received).toHaveLength(n);
    expect(result.sent).toBe(n);
    expect(result.duplicates + result.alreadySent).toBe(twice.length - n);
  }, 120_000);

  it("the guard in a compose thread stops a leaking message and everything after it: nothing reaches the server", async () => {
    server = await startTestSmtp();
    const n = 50;
    const list = generatedList(n, (i) => (i === 20 ? `Hi ${recipientAddress(7)}` : `Name${i}`));
    const { input, rows } = planInput("Hello {{ first_name }}", list);
    const plan = makePlan(input);
    const items: SendItem[] = rows.map((r) => {
      const fp = plan.fingerprintOf(r.address);
      return { fp, masked: mask(r.address), build: () => plan.messageFor(r.address, r.row, fp), recipient: r };
    });
    const leakFirst = [items[20]!, ...items.filter((_, i) => i !== 20)];
    const pool = new BuildPool(input, 1);
    const ledger = await openLedger(sendRepo(1), n);
    const transport = createSmtpTransport(server.url, { connections: 1 });
    let result;
    try {
      result = await runPipeline(leakFirst, { transport, ledger, guard: guardMessage, buildGroup: pool.build }, {
        rate: 1e6, maxInFlight: 4, batchSize: 8, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: n,
      }, new Halt());
    } finally {
      await pool.close();
      await transport.close();
      await ledger.close();
    }
    expect(result.outcome).toBe("aborted");
    expect(result.guardViolation?.masked).toBe(mask(recipientAddress(7)));
    expect(server.received).toHaveLength(0);
    expect(ledger.counts()).toMatchObject({ sent: 0, inDoubt: 0 });
  }, 120_000);
});
