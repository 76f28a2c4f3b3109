/**
 * Bounces (docs/design.md, "Recipient data and suppressions"): a 550 during
 * the send and an asynchronous DSN (RFC 3464) that came back to the
 * per-message VERP address both end in the suppression store; neither
 * recipient is mailed again. Forged and tokenless reports suppress nobody.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../src/address/mask.ts";
import { FsObjectStore } from "../src/store/fs-store.ts";
import { decideBounce } from "../src/suppress/bounce.ts";
import { parseDsn } from "../src/suppress/dsn.ts";
import { ObjectSuppressionStore } from "../src/suppress/store.ts";
import { runCli } from "./helpers/repo.ts";
import { fastConfig, recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const NEXT_DIR = "newsletters/2026-12-08-next-update";
let smtp: TestSmtp | null = null;
afterEach(async () => {
  await smtp?.close();
  smtp = null;
});

/** A DSN as Postfix writes one, delivered to `to`, reporting `recipient` with `action`/`status`. */
function dsn(to: string, recipient: string, action = "failed", status = "5.1.1"): string {
  return [
    "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
    `To: ${to}`,
    "Subject: Undelivered Mail Returned to Sender",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="8C2A.1733450000/mx.example.net"',
    "",
    "--8C2A.1733450000/mx.example.net",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    `I'm sorry to have to inform you that your message could not be delivered. Final-Recipient: rfc822; someone-else@example.org`,
    "",
    "--8C2A.1733450000/mx.example.net",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "Arrival-Date: Sun,  6 Dec 2026 10:00:00 +0900 (JST)",
    "",
    `Final-Recipient: rfc822; ${recipient}`,
    `Original-Recipient: rfc822;${recipient}`,
    `Action: ${action}`,
    `Status: ${status}`,
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
    "",
    "--8C2A.1733450000/mx.example.net--",
    "",
  ].join("\r\n");
}

function store(root: string) {
  return new ObjectSuppressionStore(new FsObjectStore(root), `${path.join(root, ".newsletter-state", "suppressions")}/`);
}

describe("bounce round trip", () => {
  it("a 550 during the send and an asynchronous DSN are both suppressed; neither recipient is mailed again", async () => {
    const n = 12;
    smtp = await startTestSmtp({ faults: { permFailFor: (rcpt) => rcpt === recipientAddress(2) } });
    const root = sendRepo(n, { ".github/newsletter.yml": fastConfig("  return_path: bounces@corp.example\n") });
    cpSync(path.join(root, SAMPLE_DIR), path.join(root, NEXT_DIR), { recursive: true });
    const env = { NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env });
    expect(first.code).toBe(3); // one permanent failure
    // Each message's envelope sender is its own bounce address; the From header is unchanged.
    const senders = smtp.received.map((m) => m.envelope.from);
    for (const s of senders) expect(s).toMatch(/^bounces\+[0-9a-f]{32}\.[0-9a-f]{12}@corp\.example$/);
    expect(new Set(senders).size).toBe(senders.length);
    expect((await smtp.parsed())[0]!.from!.value[0]!.address).toBe("news@corp.example");
    expect((await store(root).read()).map((e) => [e.fp, e.via])).toEqual([[fingerprint(recipientAddress(2), SECRET), "smtp-550"]]);

    // The asynchronous bounce of recipient 6 comes back to that message's own bounce address.
    const bounceOf6 = smtp.received.find((m) => m.envelope.to[0] === recipientAddress(6))!.envelope.from;
    const dir = mkdtempSync(path.join(tmpdir(), "nl-dsn-"));
    const eml = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    const good = eml("bounce-6.eml", dsn(bounceOf6, recipientAddress(6)));
    const imported = await runCli(["--root", root, "import-bounces", good], { env });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(/1 recipient suppressed/);
    expect(imported.stdout + imported.stderr).not.toContain(recipientAddress(6));

    // Reports that must suppress nobody.
    const forgedAddr = bounceOf6.replace(/\.([0-9a-f]{12})@/, (_, sig: string) => `.${sig.slice(0, 11)}${sig.endsWith("0") ? "1" : "0"}@`);
    const bounceOf5 = smtp.received.find((m) => m.envelope.to[0] === recipientAddress(5))!.envelope.from;
    const refused = await runCli(
      [
        "--root", root, "import-bounces",
        eml("forged.eml", dsn(forgedAddr, recipientAddress(6))),
        eml("tokenless.eml", dsn("news@corp.example", recipientAddress(7))),
        eml("other-recipient.eml", dsn(bounceOf5, recipientAddress(8))),
        eml("delay.eml", dsn(bounceOf5, recipientAddress(5), "delayed", "4.4.1")),
        eml("policy.eml", dsn(bounceOf5, recipientAddress(5), "failed", "5.7.1")),
        eml("not-a-dsn.eml", "From: a@example.net\r\nTo: bounces@corp.example\r\nSubject: hi\r\n\r\nhello\r\n"),
      ],
      { env },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/forged\.eml: refused: its bounce token is not genuine/);
    expect(refused.stderr).toMatch(/tokenless\.eml: refused: it did not come back to a per-message bounce address/);
    expect(refused.stderr).toMatch(/other-recipient\.eml: refused: its bounce token names another recipient/);
    expect(refused.stderr).toMatch(/delay\.eml: skipped/);
    expect(refused.stderr).toMatch(/policy\.eml: skipped/);
    expect(refused.stderr).toMatch(/not-a-dsn\.eml: refused: not a delivery status notification/);
    expect(refused.stdout).toMatch(/0 recipients suppressed/);

    await smtp.close();
    smtp = await startTestSmtp();
    const next = await runCli(["--root", root, "send", NEXT_DIR, "--without-approval"], { env: { ...env, NEWSLETTER_SMTP_URL: smtp.url } });
    expect(next.code).toBe(0);
    const to = smtp.received.map((m) => m.envelope.to[0]);
    expect(to).not.toContain(recipientAddress(2));
    expect(to).not.toContain(recipientAddress(6));
    for (const i of [5, 7, 8]) expect(to).toContain(recipientAddress(i));
    expect(to).toHaveLength(n - 3); // 2 and 6 bounced, 3 is in suppressions.csv
  });

  it("without sending.return_path, the report's Final-Recipient is suppressed by fingerprint", () => {
    const report = parseDsn(Buffer.from(dsn("news@corp.example", "User9@Example.com")));
    expect(report?.recipients).toEqual([{ address: "User9@Example.com", action: "failed", status: "5.1.1" }]);
    const d = decideBounce(report, {
      verifyToken: () => null,
      tokenIn: () => null,
      fingerprintOf: (a) => fingerprint(a.toLowerCase(), SECRET),
    });
    expect(d).toEqual({ kind: "suppress", fps: [fingerprint("user9@example.com", SECRET)], by: "address" });
  });

  it("sending.return_path must leave room for the token in the local part", async () => {
    const root = sendRepo(3, { ".github/newsletter.yml": fastConfig("  return_path: a-very-long-bounce-mailbox@corp.example\n") });
    const r = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/sending\.return_path: the part before @ may be at most 18 characters/);
  });
});
