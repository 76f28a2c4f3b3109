/**
 * Erasure and lookup (docs/design.md, "Recipient data and suppressions"):
 * `forget` leaves the address in no snapshot, file or outbox the tool keeps,
 * and suppresses its fingerprint for good; `status --address` answers "did
 * this address get newsletter X?" by fingerprint.
 */
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers/repo.ts";
import { generatedList, recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestS3, type TestS3 } from "./helpers/s3.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const N = 20;
const GONE = 5;
const NEXT_DIR = "newsletters/2026-12-08-next-update";
let s3: TestS3 | null = null;
let smtp: TestSmtp | null = null;
afterEach(async () => {
  await s3?.close();
  await smtp?.close();
  s3 = null;
  smtp = null;
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe("forget and status --address", () => {
  it("erases the address from every snapshot and file, keeps it suppressed for good, and status tells what it got", async () => {
    s3 = await startTestS3();
    smtp = await startTestSmtp();
    const root = sendRepo(N);
    cpSync(path.join(root, SAMPLE_DIR), path.join(root, NEXT_DIR), { recursive: true });
    const env = { ...s3.env, NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const to = `s3://${s3.bucket}/lists/`;
    // Two snapshots hold the address: an older one and the one pinned now.
    const older = path.join(root, "older.csv");
    writeFileSync(older, generatedList(N - 1));
    const latest = path.join(root, "latest.csv");
    writeFileSync(latest, generatedList(N));
    expect((await runCli(["--root", root, "pin", "customers", older, "--to", to], { env })).code).toBe(0);
    expect((await runCli(["--root", root, "pin", "customers", latest, "--to", to], { env })).code).toBe(0);
    expect(await s3.keys()).toHaveLength(2);
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env })).code).toBe(0);

    const before = await runCli(["--root", root, "status", SAMPLE_DIR, "--address", recipientAddress(GONE)], { env });
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/: sent \(the relay accepted it\)/);
    const never = await runCli(["--root", root, "status", SAMPLE_DIR, "--address", "nobody@example.org", "--format", "json"], { env });
    expect(JSON.parse(never.stdout)).toMatchObject({ state: "none", suppressed: [] });
    expect(before.stdout + never.stdout).not.toContain(recipientAddress(GONE));

    const forget = await runCli(["--root", root, "forget", recipientAddress(GONE)], { env });
    expect(forget.stderr).toBe("");
    expect(forget.code).toBe(0);
    expect(forget.stdout).not.toContain(recipientAddress(GONE));
    expect(forget.stdout).toMatch(/deleted 2 older snapshots/);

    // No object in the bucket and no file under the repository holds the address.
    const keys = await s3.keys();
    expect(keys).toHaveLength(1);
    const remaining = (await s3.get(keys[0]!))!.toString("utf8");
    expect(remaining).not.toContain(recipientAddress(GONE));
    expect(remaining.trim().split("\n")).toHaveLength(N); // header + N − 1 rows
    expect(readFileSync(path.join(root, "recipients/customers.yml"), "utf8")).toMatch(new RegExp(`^rows: ${N - 1}$`, "m"));
    for (const f of filesUnder(root).filter((f) => !/(older|latest)\.csv$/.test(f))) expect(readFileSync(f, "latin1").includes(recipientAddress(GONE)), f).toBe(false);

    const after = await runCli(["--root", root, "status", SAMPLE_DIR, "--address", recipientAddress(GONE), "--format", "json"], { env });
    expect(JSON.parse(after.stdout)).toMatchObject({ state: "sent", suppressed: [{ reason: "erasure", via: "forget" }] });

    // Suppressed for good: the address comes back in a new snapshot, and is still not mailed.
    const reimport = path.join(root, "reimport.csv");
    writeFileSync(reimport, generatedList(N));
    expect((await runCli(["--root", root, "pin", "customers", reimport, "--to", to], { env })).code).toBe(0);
    const sentBefore = smtp.received.length;
    const next = await runCli(["--root", root, "send", NEXT_DIR, "--without-approval"], { env });
    expect(next.code).toBe(0);
    const next_to = smtp.received.slice(sentBefore).map((m) => m.envelope.to[0]);
    expect(next_to).not.toContain(recipientAddress(GONE));
    expect(next_to).toHaveLength(N - 2); // and recipient 3, in suppressions.csv
  });

  it("a list still in git loses the row in the working tree, and the output says history still holds it", async () => {
    const root = sendRepo(N);
    const r = await runCli(["--root", root, "forget", recipientAddress(GONE)], { env: { NEWSLETTER_SECRET: SECRET } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/recipients\/customers\.csv: removed 1 row in the working tree — commit it; the address is still in git history/);
    const csv = readFileSync(path.join(root, "recipients/customers.csv"), "utf8");
    expect(csv).not.toContain(recipientAddress(GONE));
    expect(csv).toBe(generatedList(N).split("\n").filter((l) => !l.startsWith(`${recipientAddress(GONE)},`)).join("\n"));
  });
});
