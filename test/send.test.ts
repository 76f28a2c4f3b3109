/**
 * What `send` guarantees, against a real SMTP server on loopback (smtp-server)
 * with every received message parsed by mailparser.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { guardMessage } from "../src/guard/guard.ts";
import { FsLedgerStore, ledgerPath } from "../src/ledger/fs-store.ts";
import { Ledger } from "../src/ledger/ledger.ts";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { Halt } from "../src/send/halt.ts";
import { runPipeline, type SendItem } from "../src/send/pipeline.ts";
import { makePlan } from "../src/send/plan.ts";
import { listRows } from "../src/send/recipients.ts";
import { sendExitCode } from "../src/send/summary.ts";
import { createSmtpTransport } from "../src/transport/smtp.ts";
import { fingerprint, mask } from "../src/address/mask.ts";
import { parseLedger } from "../src/ledger/records.ts";
import { foldLedger, inDoubt } from "../src/ledger/state.ts";
import { runCli, sampleText } from "./helpers/repo.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR, fastConfig, generatedList } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
let server: TestSmtp | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function env(url: string) {
  return { NEWSLETTER_SMTP_URL: url, NEWSLETTER_SECRET: SECRET };
}

function ledgerState(root: string) {
  const file = ledgerPath(path.join(root, ".newsletter-state"), "2026-12-01-winter-update", "all");
  const text = readFileSync(file, "utf8");
  return { text, state: foldLedger(parseLedger(text, file)) };
}

function assertNoAddress(text: string, n: number) {
  for (let i = 0; i < n; i++) expect(text.includes(recipientAddress(i)), `address ${i} printed in full`).toBe(false);
}

describe("send over SMTP", () => {
  it("delivers a clean list of 3,000: one recipient per message, unique Message-IDs, unsubscribe headers, both parts; a re-run sends nothing", async () => {
    const n = 3000;
    server = await startTestSmtp();
    const root = sendRepo(n);
    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: env(server.url) });
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(first.code).toBe(0);
    const expected = n - 1; // one suppressed
    expect(server.received).toHaveLength(expected);

    const parsed = await server.parsed();
    const mids = new Set<string>();
    const seen = new Set<string>();
    for (let i = 0; i < parsed.length; i++) {
      const m = parsed[i]!;
      const env0 = server.received[i]!.envelope;
      expect(env0.to).toHaveLength(1);
      const to = m.to && !Array.isArray(m.to) ? m.to.value : [];
      expect(to).toHaveLength(1);
      expect(to[0]!.address).toBe(env0.to[0]);
      expect(m.cc).toBeUndefined();
      expect(m.bcc).toBeUndefined();
      expect(m.headerLines.find((h) => h.key === "list-unsubscribe-post")?.line).toBe("List-Unsubscribe-Post: List-Unsubscribe=One-Click");
      expect(m.headerLines.find((h) => h.key === "list-unsubscribe")?.line).toMatch(/<https:\/\/corp\.example\/unsubscribe\?u=[0-9a-f.]+>,\s*<mailto:unsubscribe@corp\.example/);
      expect(m.headerLines.find((h) => h.key === "list-id")?.line).toBe("List-Id: <product-news.corp.example>");
      expect(m.text).toContain("Here is what changed");
      expect(m.html).toContain("<h1");
      mids.add(m.messageId!);
      seen.add(env0.to[0]!);
    }
    expect(mids.size).toBe(expected);
    expect(seen.size).toBe(expected);
    expect(seen.has(recipientAddress(3))).toBe(false); // suppressed

    const again = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: env(server.url) });
    expect(again.code).toBe(0);
    expect(server.received).toHaveLength(expected);
    expect(again.stdout).toContain(`already sent earlier: ${expected}`);

    const status = await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"]);
    expect(JSON.parse(status.stdout)).toMatchObject({ total: expected, sent: expected, failed: 0, in_doubt: 0, remaining: 0, complete: true });

    const ledgerText = readFileSync(ledgerPath(path.join(root, ".newsletter-state"), "2026-12-01-winter-update", "all"), "utf8");
    for (const out of [first.stdout, first.stderr, again.stdout, again.stderr, status.stdout, ledgerText]) assertNoAddress(out, n);
  }, 240_000);

  it("the guard stops a list field holding another customer's address even with the static check off: nothing reaches the server, exit 4", async () => {
    server = await startTestSmtp();
    const n = 50;
    const list = generatedList(n, (i) => (i === 20 ? `Hi ${recipientAddress(7)}` : `Name${i}`));
    // The static check refuses it (exit 1)...
    const root = sendRepo(n, { "recipients/customers.csv": list });
    const checked = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: env(server.url) });
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain("list-address-in-field");
    expect(server.received).toHaveLength(0);

    // ...so force it off: build the send from its parts without the checks, as a bug in them would.
    const config = parseConfig(fastConfig()).config!;
    const meta = parseNewsletterMeta(sampleText(`${SAMPLE_DIR}/newsletter.yml`), "n.yml").meta!;
    const leakyPlan = makePlan({ id: "2026-12-01-winter-update", config, meta, body: "Hello {{ first_name }}", digest: "d".repeat(64), secret: SECRET, date: new Date() });
    const items: SendItem[] = [...listRows(Buffer.from(list), "recipients/customers.csv", new Set())].map((r) => ({
      fp: leakyPlan.fingerprintOf(r.address), masked: mask(r.address), build: () => leakyPlan.messageFor(r.address, r.row),
    }));
    const ledger = await Ledger.open(new FsLedgerStore(path.join(root, "guard.jsonl")), {
      id: "x", list: "customers", listRows: n, digest: "d".repeat(64), shard: "all", count: n, secret: SECRET, now: () => new Date(),
    });
    const transport = createSmtpTransport(server.url, { connections: 1 });
    // The leaking row goes first, so "zero messages reach the server" proves the guard stopped it and all after it.
    const leakFirst = [items[20]!, ...items.filter((_, i) => i !== 20)];
    const result = await runPipeline(leakFirst, { transport, ledger, guard: guardMessage }, {
      rate: 1e6, maxInFlight: 4, batchSize: 8, maxFailureRate: 0.05, resendInDoubt: false, dryRun: false, total: n,
    }, new Halt());
    await transport.close();
    await ledger.close();
    expect(result.outcome).toBe("aborted");
    expect(sendExitCode(result)).toBe(4);
    expect(result.guardViolation?.masked).toBe(mask(recipientAddress(7)));
    expect(server.received).toHaveLength(0);
    expect(ledger.counts()).toMatchObject({ sent: 0, inDoubt: 0 });
  });

  it("with 10% 421, a connection dropped after the data every 500 messages and 1% 550: no duplicate; each recipient delivered once, failed permanently, or in doubt (the dropped ones, not retried); exit 3", async () => {
    const n = 2000;
    server = await startTestSmtp({ faults: { tempFailRate: 0.1, dropEvery: 500, permFailRate: 0.01, seed: 7 } });
    const root = sendRepo(n);
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: env(server.url) });
    expect(r.code).toBe(3);
    const counts = server.countsByRecipient();
    const dupes = [...counts.values()].filter((c) => c > 1).length;
    expect(dupes).toBe(0);
    const failedLines = r.stdout.split("\n").filter((l) => /^\s+\S+\*\*\*@\S+\s+[0-9a-f]{12}\s+/.test(l));
    const permanent = Number(/failed permanently: (\d+)/.exec(r.stdout)?.[1] ?? "0");
    expect(permanent).toBeGreaterThan(0);
    expect(failedLines.length).toBeGreaterThanOrEqual(Math.min(permanent, 50));
    // The server discarded the dropped messages, but the client wrote their end of data and got no
    // reply: in doubt (RFC 5321 §4.1.1.4), never retried; the 421s were retried and delivered.
    expect(server.stats.dropped).toBeGreaterThan(0);
    const doubt = inDoubt(ledgerState(root).state);
    expect(doubt).toHaveLength(server.stats.dropped);
    expect(Number(/IN DOUBT \(data handed over[^\n]*: (\d+)/.exec(r.stdout)?.[1] ?? "0")).toBe(server.stats.dropped);
    for (const fp of doubt) expect(r.stdout).toContain(fp.slice(0, 12));
    // Every recipient either arrived exactly once, is listed as a permanent failure, or is in doubt.
    expect(counts.size + permanent + doubt.length).toBe(n - 1);
    assertNoAddress(r.stdout + r.stderr, n);
  }, 240_000);

  describe.each([
    ["our pipelined client", {}],
    ["nodemailer's pool", { NEWSLETTER_SMTP_CLIENT: "nodemailer" }],
  ] as Array<[string, Record<string, string>]>)("accept then drop, through %s", (_name, clientEnv) => {
    it("2,000 recipients, the server queues every 300th message and cuts the connection instead of its 250: exactly those in doubt, 0 duplicates, exit 3; --resend-in-doubt resends them, a plain re-run sends nothing", async () => {
      const n = 2000;
      const every = 300;
      server = await startTestSmtp({ faults: { acceptThenDropEvery: every } });
      const root = sendRepo(n);
      const e = { ...env(server.url), ...clientEnv };
      const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: e });
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(3); // finished, some in doubt

      const deliverable = n - 1; // one suppressed
      const dropped = Math.floor(deliverable / every);
      expect(server.acceptedThenDropped).toHaveLength(dropped);
      const counts = server.countsByRecipient();
      // Everyone arrived (the dropped ones were queued by the server), nobody twice: nothing was retried.
      expect(counts.size).toBe(deliverable);
      expect([...counts.values()].filter((c) => c > 1)).toEqual([]);

      // Exactly the dropped ones are in doubt: in the ledger (claimed, no outcome) and in the summary, by fingerprint.
      const wantFps = server.acceptedThenDropped.map((a) => fingerprint(a, SECRET)).sort();
      const { state, text } = ledgerState(root);
      expect(inDoubt(state)).toEqual(wantFps);
      expect(Number(/IN DOUBT \(data handed over[^\n]*: (\d+)/.exec(r.stdout)?.[1] ?? "-1")).toBe(dropped);
      for (const fp of wantFps) expect(r.stdout).toContain(fp.slice(0, 12));
      for (const a of server.acceptedThenDropped) expect(r.stdout).toContain(mask(a));
      expect(r.stdout).toContain(`sent now: ${deliverable - dropped}`);
      const status = await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"]);
      expect(JSON.parse(status.stdout)).toMatchObject({ sent: deliverable - dropped, failed: 0, in_doubt: dropped, complete: false });

      // A plain re-run: the in-doubt ones are skipped and listed, nothing is sent.
      const plain = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: e });
      expect(plain.code).toBe(3);
      expect(server.received).toHaveLength(deliverable);
      expect(plain.stdout).toContain(`already sent earlier: ${deliverable - dropped}`);
      expect(Number(/IN DOUBT \(claimed by an earlier run[^\n]*: (\d+)/.exec(plain.stdout)?.[1] ?? "-1")).toBe(dropped);

      // The operator's choice: --resend-in-doubt sends exactly those again (deliberate duplicates).
      const resend = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--resend-in-doubt"], { env: e });
      expect(resend.code).toBe(0);
      expect(resend.stdout).toContain(`sent now: ${dropped}`);
      const after = server.countsByRecipient();
      const twice = [...after.entries()].filter(([, c]) => c > 1).map(([a]) => a).sort();
      expect(twice).toEqual([...server.acceptedThenDropped].sort());
      expect([...after.values()].every((c) => c <= 2)).toBe(true);
      expect(inDoubt(ledgerState(root).state)).toEqual([]);

      // And then a plain re-run sends nothing.
      const last = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], { env: e });
      expect(last.code).toBe(0);
      expect(server.received).toHaveLength(deliverable + dropped);
      expect(last.stdout).toContain(`already sent earlier: ${deliverable}`);

      for (const out of [r.stdout, r.stderr, plain.stdout, plain.stderr, resend.stdout, resend.stderr, last.stdout, status.stdout, text]) assertNoAddress(out, n);
      console.log(
        `[send accept-then-drop ${_name}] recipients ${deliverable}, dropped after acceptance ${dropped}, in doubt ${inDoubt(state).length}; ` +
          `duplicates before --resend-in-doubt 0, after ${twice.length}`,
      );
    }, 240_000);
  });
});

describe("DKIM on the send path", () => {
  it("signs every message when a key is configured, verifiable, and the guard passes the signed bytes", async () => {
    const { generateKeyPairSync, createPublicKey } = await import("node:crypto");
    const { verifyDkim } = await import("./helpers/dkim-verify.ts");
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    server = await startTestSmtp();
    const n = 40;
    const root = sendRepo(n);
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], {
      env: { ...env(server.url), NEWSLETTER_DKIM_PRIVATE_KEY: pem, NEWSLETTER_DKIM_SELECTOR: "news2026" },
    });
    expect(r.code).toBe(0);
    expect(server.received).toHaveLength(n - 1);
    const pub = createPublicKey(publicKey.export({ type: "spki", format: "pem" }));
    for (const m of server.received) {
      const v = verifyDkim(m.raw, pub);
      expect(v.bodyOk && v.signatureOk).toBe(true);
      expect(m.raw.toString("latin1").replace(/\r\n[ \t]+/g, " ")).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=corp\.example; s=news2026;/);
    }
    expect(r.stdout + r.stderr).not.toContain("PRIVATE KEY");
  }, 120_000);
});
