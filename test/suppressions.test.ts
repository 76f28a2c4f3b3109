/**
 * The suppression store (docs/design.md, "Recipient data and suppressions"):
 * append-only entries by fingerprint or address, read by every send (a
 * resumed one too) without changing the digest, on a path and in S3.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../src/address/mask.ts";
import { keyId } from "../src/ledger/ledger.ts";
import { FsObjectStore } from "../src/store/fs-store.ts";
import { S3ObjectStore } from "../src/store/s3-store.ts";
import { ObjectSuppressionStore, type SuppressionStore } from "../src/suppress/store.ts";
import type { SuppressionEntry } from "../src/suppress/entry.ts";
import { runCli } from "./helpers/repo.ts";
import { fastConfig, recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestS3, type TestS3 } from "./helpers/s3.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
let smtp: TestSmtp | null = null;
let s3: TestS3 | null = null;
afterEach(async () => {
  await smtp?.close();
  await s3?.close();
  smtp = null;
  s3 = null;
});

const byFp = (i: number, reason: SuppressionEntry["reason"] = "unsubscribe"): SuppressionEntry => ({
  v: 1, at: "2026-12-06T00:00:00.000Z", reason, fp: fingerprint(recipientAddress(i), SECRET), key_id: keyId(SECRET), via: "test",
});
const byAddress = (i: number): SuppressionEntry => ({ v: 1, at: "2026-12-06T00:00:00.000Z", reason: "manual", address: recipientAddress(i).toUpperCase() });

/** The default store of a repository: suppressions/ in its state folder. */
function defaultStore(root: string): SuppressionStore {
  return new ObjectSuppressionStore(new FsObjectStore(root), `${path.join(root, ".newsletter-state", "suppressions")}/`);
}

describe("suppression store", () => {
  it("entries by fingerprint and by address are skipped by the send, and the digest the approvers saw does not change", async () => {
    smtp = await startTestSmtp();
    const n = 30;
    const root = sendRepo(n);
    const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const manifest = JSON.parse((await runCli(["--root", root, "manifest", SAMPLE_DIR], { env })).stdout) as { digest: string };
    await defaultStore(root).append([byFp(5)]);
    await defaultStore(root).append([byAddress(7)]);
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--expect-digest", manifest.digest], { env });
    expect(r.code).toBe(0);
    const to = new Set(smtp.received.flatMap((m) => m.envelope.to));
    expect(to.has(recipientAddress(5))).toBe(false);
    expect(to.has(recipientAddress(7))).toBe(false);
    expect(to.has(recipientAddress(3))).toBe(false); // recipients/suppressions.csv still applies
    expect(smtp.received).toHaveLength(n - 3);
  });

  it("a resumed send reads the store again: an unsubscribe made after the halt is honoured; permanent 5.1.1 refusals are suppressed", async () => {
    const n = 300;
    const failing = new Set(Array.from({ length: 60 }, (_, i) => recipientAddress(i)));
    smtp = await startTestSmtp({ faults: { permFailFor: (rcpt) => failing.has(rcpt) } });
    const root = sendRepo(n);
    const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env });
    expect(first.code).toBe(4); // the breaker stopped it: most of the list is left
    const store = defaultStore(root);
    const bounced = new Set((await store.read()).filter((e) => e.reason === "bounce").map((e) => e.fp));
    expect(bounced.size).toBeGreaterThanOrEqual(50);
    for (const fp of bounced) expect([...failing].map((a) => fingerprint(a, SECRET))).toContain(fp);
    expect(JSON.stringify(await store.read())).not.toMatch(/@/);

    await store.append([byFp(250)]);
    await store.append([byAddress(260)]);
    await smtp.close();
    smtp = await startTestSmtp();
    const resumed = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: { ...env, NEWSLETTER_SMTP_URL: smtp.url } });
    expect(resumed.code).toBe(0);
    const to = new Set(smtp.received.flatMap((m) => m.envelope.to));
    expect(to.has(recipientAddress(250))).toBe(false);
    expect(to.has(recipientAddress(260))).toBe(false);
    expect(to.has(recipientAddress(299))).toBe(true);
    for (const a of failing) expect(to.has(a)).toBe(false);
  });

  it("import-suppressions moves recipients/suppressions.csv into the store as fingerprints; the send still skips those recipients after the CSV is gone", async () => {
    smtp = await startTestSmtp();
    const root = sendRepo(10);
    const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const csv = path.join(root, "recipients/suppressions.csv");
    const { writeFileSync, rmSync } = await import("node:fs");
    writeFileSync(csv, `email,reason\n${recipientAddress(3)},unsubscribed\n${recipientAddress(8).toUpperCase()},bounced\n`);
    const imported = await runCli(["--root", root, "import-suppressions", csv], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/2 fingerprints added/);
    const entries = await defaultStore(root).read();
    expect(entries.map((e) => e.fp).sort()).toEqual([fingerprint(recipientAddress(3), SECRET), fingerprint(recipientAddress(8), SECRET)].sort());
    expect(JSON.stringify(entries)).not.toMatch(/@/);
    rmSync(csv);
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(0);
    const to = smtp.received.map((m) => m.envelope.to[0]);
    expect(to).not.toContain(recipientAddress(3));
    expect(to).not.toContain(recipientAddress(8));
    expect(to).toHaveLength(8);

    writeFileSync(csv, `email\n"unterminated\n`);
    const broken = await runCli(["--root", root, "import-suppressions", csv], { env });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/nothing was imported/);
  });

  it("suppress_permanent_failures: false leaves refusals out of the store; a 5.7.1 policy refusal is never suppressed", async () => {
    smtp = await startTestSmtp({ faults: { permFailFor: (rcpt) => rcpt === recipientAddress(1) } });
    const off = sendRepo(10, { ".github/newsletter.yml": `${fastConfig()}recipient_data:\n  suppress_permanent_failures: false\n` });
    const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    expect((await runCli(["--root", off, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(3);
    expect(await defaultStore(off).read()).toEqual([]);
    const { isAddressFailure } = await import("../src/suppress/bounce.ts");
    expect(isAddressFailure(550, "550 5.1.1 no such user")).toBe(true);
    expect(isAddressFailure(550, "550 5.7.1 message refused as spam")).toBe(false);
    expect(isAddressFailure(554, "554 transaction failed")).toBe(false);
  });

  it("in S3: append-only objects, read back whole; an unreadable entry refuses the send", async () => {
    s3 = await startTestS3();
    smtp = await startTestSmtp();
    const location = `s3://${s3.bucket}/suppressions/`;
    const store = new ObjectSuppressionStore(new S3ObjectStore(s3.env), location);
    await store.append([byFp(2)]);
    await store.append([byFp(4), byAddress(6)]);
    expect((await store.read()).map((e) => e.fp ?? e.address)).toHaveLength(3);
    const root = sendRepo(10, { ".github/newsletter.yml": `${fastConfig()}recipient_data:\n  suppression_store: "${location}"\n` });
    const env = { ...s3.env, NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env });
    expect(r.code).toBe(0);
    const to = new Set(smtp.received.flatMap((m) => m.envelope.to));
    for (const i of [2, 3, 4, 6]) expect(to.has(recipientAddress(i))).toBe(false);
    expect(smtp.received).toHaveLength(6);

    const other = sendRepo(10, { ".github/newsletter.yml": `${fastConfig()}recipient_data:\n  suppression_store: "${location}"\n` });
    await s3.put("suppressions/zz-broken.jsonl", "{not json\n");
    const refused = await runCli(["--root", other, "send", SAMPLE_DIR, "--without-approval"], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/suppression store holds an unreadable entry/);
    expect(smtp.received).toHaveLength(6);
  });
});

describe("compact-suppressions: one sorted snapshot, no entry lost", () => {
  it("in S3: the objects become one sorted snapshot read back as the same entries; the send still skips every one", async () => {
    s3 = await startTestS3();
    smtp = await startTestSmtp();
    const location = `s3://${s3.bucket}/suppressions/`;
    const store = new ObjectSuppressionStore(new S3ObjectStore(s3.env), location);
    for (const i of [6, 2, 4]) await store.append([byFp(i)]);
    await store.append([byAddress(8), byFp(2)]); // fingerprint 2 twice: one line kept
    const before = await store.read();
    const root = sendRepo(10, { ".github/newsletter.yml": `${fastConfig()}recipient_data:\n  suppression_store: "${location}"\n` });
    const env = { ...s3.env, NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };

    const dry = await runCli(["--root", root, "compact-suppressions", "--dry-run"], { env });
    expect(dry.stdout).toMatch(/4 objects, 4 entries .*dry run/);
    expect((await s3.keys()).filter((k) => k.startsWith("suppressions/"))).toHaveLength(4);

    const r = await runCli(["--root", root, "compact-suppressions"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 objects folded into s3:\/\/.*-compacted-.*\.jsonl \(4 entries\) and deleted/);
    const keys = (await s3.keys()).filter((k) => k.startsWith("suppressions/"));
    expect(keys).toHaveLength(1);
    const lines = (await s3.get(keys[0]!))!.toString("utf8").trim().split("\n");
    const sortKey = (l: string) => { const e = JSON.parse(l) as SuppressionEntry; return `${e.fp ?? ""}\0${e.address ?? ""}`; };
    expect(lines.map(sortKey)).toEqual(lines.map(sortKey).sort());
    const key = (e: SuppressionEntry) => JSON.stringify(e);
    expect(new Set((await store.read()).map(key))).toEqual(new Set(before.map(key)));

    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(0);
    const to = new Set(smtp.received.flatMap((m) => m.envelope.to));
    for (const i of [2, 3, 4, 6, 8]) expect(to.has(recipientAddress(i))).toBe(false);
    expect(smtp.received).toHaveLength(5);
  });

  it("an append made during the compaction stays; a reader that listed a folded object before it was deleted reads again", async () => {
    const root = sendRepo(3);
    const fs = new FsObjectStore(root);
    const location = `${path.join(root, ".newsletter-state", "suppressions")}/`;
    const plain = new ObjectSuppressionStore(fs, location);
    await plain.append([byFp(1)]);
    await plain.append([byFp(2)]);
    // The unsubscribe server appends while the snapshot is being written.
    const racing = new ObjectSuppressionStore({ ...fs, get: (l) => fs.get(l), list: (p) => fs.list(p), remove: (l) => fs.remove(l), put: async (l, b) => { await fs.put(l, b); if (l.includes("-compacted-")) await plain.append([byFp(3)]); } }, location);
    const r = await racing.compact();
    expect(r.objects).toBe(2);
    expect((await plain.read()).map((e) => e.fp).sort()).toEqual([byFp(1), byFp(2), byFp(3)].map((e) => e.fp).sort());

    // A reader whose first listing still names objects the compaction deleted since.
    const stale = await fs.list(location);
    await plain.append([byFp(4)]);
    await plain.compact();
    let lists = 0;
    const late = new ObjectSuppressionStore({ ...fs, get: (l) => fs.get(l), put: (l, b) => fs.put(l, b), remove: (l) => fs.remove(l), list: async (p) => (lists++ === 0 ? stale : fs.list(p)) }, location);
    expect((await late.read()).map((e) => e.fp).sort()).toEqual([1, 2, 3, 4].map((i) => byFp(i).fp).sort());
    expect(lists).toBe(2);
  });

  it("an entry that cannot be parsed stops the compaction before anything is written or deleted", async () => {
    const root = sendRepo(3);
    const dir = path.join(root, ".newsletter-state", "suppressions");
    await defaultStore(root).append([byFp(1)]);
    const { writeFileSync, readdirSync } = await import("node:fs");
    writeFileSync(path.join(dir, "zz-broken.jsonl"), "{not json\n");
    const r = await runCli(["--root", root, "compact-suppressions"], { env: {} });
    expect(r.code).toBe(1);
    expect(readdirSync(dir)).toHaveLength(2);
  });
});
