/**
 * The suppression store in the checks and the approval copy (docs/design.md, "Recipient data and
 * suppressions"): `check`, `manifest` and the approval copy count recipients as the send applies
 * the store (suppress/apply.ts), and an address only the store names is looked for in the content
 * by the checks and by the guard, with the checks bypassed.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../src/address/mask.ts";
import { keyId } from "../src/ledger/ledger.ts";
import { FsObjectStore } from "../src/store/fs-store.ts";
import { ObjectSuppressionStore } from "../src/suppress/store.ts";
import type { SuppressionEntry } from "../src/suppress/entry.ts";
import { commandDeps } from "../src/wiring/deps.ts";
import { prepareNewsletter } from "../src/send/prepare.ts";
import { makePlan } from "../src/send/plan.ts";
import { guardListedKeys } from "../src/send/recipients.ts";
import { guardMessage } from "../src/guard/guard.ts";
import type { Io } from "../src/runtime/io.ts";
import { runCli } from "./helpers/repo.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const AT = "2026-12-06T00:00:00.000Z";
let smtp: TestSmtp | null = null;
afterEach(async () => {
  await smtp?.close();
  smtp = null;
});

const byFp = (address: string): SuppressionEntry => ({ v: 1, at: AT, reason: "unsubscribe", fp: fingerprint(address, SECRET), key_id: keyId(SECRET), via: "test" });
const byAddress = (address: string): SuppressionEntry => ({ v: 1, at: AT, reason: "manual", address });

/** The repository's default store: suppressions/ in its state folder. */
async function append(root: string, ...entries: SuppressionEntry[]): Promise<void> {
  await new ObjectSuppressionStore(new FsObjectStore(root), `${path.join(root, ".newsletter-state", "suppressions")}/`).append(entries);
}

interface Counts { recipients: number; suppressed: number; suppressed_by_store?: number; store_unmatched?: number }

async function checkCounts(root: string, env: Record<string, string>): Promise<Counts> {
  const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"], { env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { newsletters: Counts[] }).newsletters[0]!;
}

/** The approval copy `test-send` wrote to the outbox, decoded enough to read its banner. */
function approvalCopyText(root: string): string {
  const dir = path.join(root, "outbox", "approval", path.basename(SAMPLE_DIR));
  const file = readdirSync(dir).find((f) => f.endsWith(".eml"))!;
  const raw = readFileSync(path.join(dir, file), "utf8");
  const parts = raw.split(/\r?\n\r?\n/);
  // Quoted-printable text part: soft breaks and =XX of UTF-8 undone.
  return Buffer.from(parts.join("\n").replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
}

describe("the checks and the approval copy count the suppression store as the send applies it", () => {
  it("check, manifest and the approval copy: N recipients, M suppressed by the store, K mailed; the send mails K", async () => {
    const n = 20;
    const root = sendRepo(n); // recipients/suppressions.csv names user3
    await append(root, byFp(recipientAddress(5)), byAddress(recipientAddress(7).toUpperCase()), byFp(recipientAddress(3)));
    const env = { NEWSLETTER_SECRET: SECRET };

    expect(await checkCounts(root, env)).toMatchObject({ recipients: n - 3, suppressed: 1, suppressed_by_store: 2, store_unmatched: 0 });
    const m = JSON.parse((await runCli(["--root", root, "manifest", SAMPLE_DIR], { env })).stdout) as { recipients: Counts & { count: number } };
    expect(m.recipients).toMatchObject({ count: n - 3, suppressed: 1, suppressed_by_store: 2, store_unmatched: 0 });

    const copy = await runCli(["--root", root, "test-send", SAMPLE_DIR, "--to", "alice@corp.example"], { env });
    expect(copy.code, copy.stderr).toBe(0);
    const text = approvalCopyText(root);
    expect(text).toContain(`<strong>${n - 3}</strong> recipients, 1 suppressed`);
    expect(text).toContain("The suppression store removes 2 of them");

    smtp = await startTestSmtp();
    const sent = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: { ...env, NEWSLETTER_SMTP_URL: smtp.url } });
    expect(sent.code, sent.stderr).toBe(0);
    expect(smtp.received).toHaveLength(m.recipients.count);
  });

  it("without the production key (the approval environment) fingerprint entries are not matched, and the counts say the send may leave out more", async () => {
    const n = 12;
    const root = sendRepo(n);
    await append(root, byFp(recipientAddress(5)), byAddress(recipientAddress(7)));
    expect(await checkCounts(root, {})).toMatchObject({ recipients: n - 2, suppressed: 1, suppressed_by_store: 1, store_unmatched: 1 });
    const text = await runCli(["--root", root, "check", SAMPLE_DIR], { env: {} });
    expect(text.stdout).toContain("1 suppressed by the store (1 entries only the send's key matches)");
    expect((await runCli(["--root", root, "test-send", SAMPLE_DIR, "--to", "alice@corp.example"], { env: {} })).code).toBe(0);
    expect(approvalCopyText(root)).toContain("the send may leave out up to 1 more");
  });

  it("status: a send that skipped store-suppressed recipients is complete, also where the key is not held (the send workflow's status steps)", async () => {
    const root = sendRepo(10);
    await append(root, byFp(recipientAddress(5)), byAddress(recipientAddress(7)));
    smtp = await startTestSmtp();
    const env = { NEWSLETTER_SECRET: SECRET, NEWSLETTER_SMTP_URL: smtp.url };
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(0);
    expect(smtp.received).toHaveLength(7);
    for (const e of [{ NEWSLETTER_SECRET: SECRET }, {}]) {
      const st = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"], { env: e })).stdout) as Record<string, unknown>;
      expect(st, JSON.stringify(e)).toMatchObject({ state: "complete", complete: true, remaining: 0, sent: 7, continue: false });
    }
  });

  it("a store entry that cannot be parsed fails the checks (as it refuses the send)", async () => {
    const root = sendRepo(5);
    const dir = path.join(root, ".newsletter-state", "suppressions");
    await append(root, byAddress(recipientAddress(1)));
    writeFileSync(path.join(dir, "zz-broken.jsonl"), "{not json\n");
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('"rule": "suppression-store"');
  });
});

describe("an address only the suppression store names is looked for in the content", () => {
  const GONE = "gone@shop.example"; // on no list: it left the list and was suppressed for good
  const LEFT = "left.behind@shop.example";
  // A disguised form: only ever looked up in the lists, so it passes unless the store is among them.
  const body = (a: string) => `Hello {{ first_name }},\n\nWrite to ${a.replace("@", "@ ")} today.\n`;

  for (const [name, entry, address] of [["a fingerprint entry", byFp(GONE), GONE], ["an address entry", byAddress(LEFT), LEFT]] as const) {
    it(`check refuses it (${name})`, async () => {
      const root = sendRepo(5, { [`${SAMPLE_DIR}/body.md`]: body(address) });
      const clean = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"], { env: { NEWSLETTER_SECRET: SECRET } });
      expect(clean.code, "without the entry the disguised address passes").toBe(0);
      await append(root, entry);
      const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"], { env: { NEWSLETTER_SECRET: SECRET } });
      expect(r.code).toBe(1);
      const findings = (JSON.parse(r.stdout) as { findings: Array<{ rule: string; message: string }> }).findings;
      expect(findings.find((f) => f.rule === "leak-list-address")?.message).toContain("the suppression store");
      expect(r.stdout.toLowerCase()).not.toContain(address);
    });
  }

  it("the guard aborts on it with the checks bypassed, from the send's listed set (fingerprint and address entries)", async () => {
    const root = sendRepo(5);
    await append(root, byFp(GONE), byAddress(LEFT));
    const io = { env: { NEWSLETTER_SECRET: SECRET } } as unknown as Io;
    const prepared = await prepareNewsletter(commandDeps(root, io), SAMPLE_DIR);
    const { checked } = prepared;
    const key = { id: keyId(SECRET), fingerprintOf: (a: string) => fingerprint(a, SECRET) };
    const guarded = (address: string, withStore: boolean) => {
      const listed = guardListedKeys(prepared.listBytes, checked.list.file, checked.suppressions?.addresses ?? [], withStore ? checked.storeSuppressions : null, key);
      const plan = makePlan({
        id: checked.id, config: checked.config, meta: checked.meta, body: body(address), digest: checked.digest, secret: SECRET, date: new Date(AT), layout: checked.layout, listed,
      });
      const to = recipientAddress(0);
      const out = plan.messageFor(to, { first_name: "Taro", plan: "Free" });
      return guardMessage(out.raw, out.envelope, out.guard);
    };
    for (const a of [GONE, LEFT]) {
      expect(guarded(a, false), "the control: without the store the disguised form passes").toEqual({ ok: true });
      const v = guarded(a, true);
      expect(v.ok).toBe(false);
      expect(JSON.stringify(v).toLowerCase()).not.toContain(a);
    }
  });
});
