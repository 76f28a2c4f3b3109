/**
 * Lists by reference (docs/design.md, "Recipient data and suppressions"):
 * `newsletter pin` uploads a snapshot to a real S3 server in process
 * (s3rver, through the real SDK) and writes recipients/<name>.yml; check and
 * send fetch it, verify its pin, and never write the bytes anywhere.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "./helpers/repo.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR, generatedList, fastConfig } from "./helpers/send-repo.ts";
import { startTestS3, type TestS3 } from "./helpers/s3.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const N = 40;
let s3: TestS3 | null = null;
let smtp: TestSmtp | null = null;
afterEach(async () => {
  await s3?.close();
  await smtp?.close();
  s3 = null;
  smtp = null;
});

/** Every file under `dir` (the state folder included), as text. */
function filesUnder(dir: string): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push({ file: p, text: readFileSync(p, "latin1") });
  }
  return out;
}

/** A repository whose customer list was pinned to S3 (the CSV removed by `pin`), and the env to reach it. */
async function pinnedWorld(changes: Record<string, string | null> = {}) {
  s3 = await startTestS3();
  smtp = await startTestSmtp();
  const root = sendRepo(N, changes);
  const csv = path.join(root, "recipients/customers.csv");
  const pin = await runCli(["--root", root, "pin", "customers", csv, "--to", `s3://${s3.bucket}/lists/`], { env: s3.env });
  expect(pin.stderr).toBe("");
  expect(pin.code).toBe(0);
  const ref = readFileSync(path.join(root, "recipients/customers.yml"), "utf8");
  const key = /source: "s3:\/\/[^/]+\/([^"]+)"/.exec(ref)![1]!;
  const env: Record<string, string> = { ...s3.env, NEWSLETTER_SMTP_URL: smtp.url, NEWSLETTER_SECRET: SECRET };
  return { root, key, ref, env, s3, smtp };
}

describe("lists by reference in an S3-compatible store", () => {
  it("pin uploads the snapshot, writes the hash and row count, and removes the CSV", async () => {
    const w = await pinnedWorld();
    expect(w.ref).toMatch(/^sha256: [0-9a-f]{64}$/m);
    expect(w.ref).toMatch(new RegExp(`^rows: ${N}$`, "m"));
    expect(w.key).toMatch(/^lists\/customers-[0-9a-f]{16}\.csv$/);
    expect((await w.s3.get(w.key))!.toString("utf8")).toBe(generatedList(N));
    expect(statSync(path.join(w.root, "recipients/customers.csv"), { throwIfNoEntry: false })).toBeUndefined();
    const check = await runCli(["--root", w.root, "check", SAMPLE_DIR], { env: w.env });
    expect(check.code).toBe(0);
    expect(check.stdout).not.toMatch(/customers\.(csv|yml).*list-in-git/);
  });

  it("a list fetched from S3 is sent to every recipient, and no address is written to the repository or printed", async () => {
    const w = await pinnedWorld();
    const sent = await runCli(["--root", w.root, "send", SAMPLE_DIR, "--without-approval"], { env: w.env });
    expect(sent.stderr).not.toMatch(/\n\s+at /);
    expect(sent.code).toBe(0);
    expect(w.smtp.received).toHaveLength(N - 1); // one row is in suppressions.csv
    const to = new Set(w.smtp.received.flatMap((m) => m.envelope.to));
    for (let i = 0; i < N; i++) expect(to.has(recipientAddress(i))).toBe(i !== 3);
    // The suppressions CSV is the one file in git that holds an address (recipient 3).
    for (const { file, text } of filesUnder(w.root)) {
      if (file.endsWith("recipients/suppressions.csv")) continue;
      for (let i = 0; i < N; i++) expect(text.includes(recipientAddress(i)), `${file} holds address ${i}`).toBe(false);
    }
    for (let i = 0; i < N; i++) expect(sent.stdout + sent.stderr).not.toContain(recipientAddress(i));
  });

  it("findings about a list in S3 reach the job summary, annotations and SARIF masked: no address is written there", async () => {
    s3 = await startTestS3();
    const root = sendRepo(N);
    const bad = path.join(root, "bad.csv");
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    // Row 5 hides another recipient's address in a field; row 7 is invalid.
    writeFileSync(bad, generatedList(N).replace(`,Name5,`, `,${recipientAddress(11)},`).replace(recipientAddress(7), `${recipientAddress(7)}@@`));
    const pinned = await runCli(["--root", root, "pin", "customers", bad, "--to", `s3://${s3.bucket}/lists/`], { env: s3.env });
    expect(pinned.code).toBe(1); // pin refuses a list with errors…
    expect(pinned.stderr).toMatch(/nothing was uploaded/);
    expect(await s3.keys()).toEqual([]);
    // …so it is put there behind the tool's back, with a reference written by hand.
    const bytes = readFileSync(bad);
    await s3.put("lists/bad.csv", bytes);
    const { createHash } = await import("node:crypto");
    writeFileSync(path.join(root, "recipients/customers.yml"), `source: "s3://${s3.bucket}/lists/bad.csv"\nsha256: ${createHash("sha256").update(bytes).digest("hex")}\nrows: ${N}\n`);
    const { rmSync } = await import("node:fs");
    rmSync(path.join(root, "recipients/customers.csv"));
    const out = mkdtempSync(path.join(tmpdir(), "nl-summary-"));
    const summary = path.join(out, "summary.md");
    writeFileSync(summary, "");
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "github", "--sarif-out", path.join(out, "check.sarif")], {
      env: { ...s3.env, GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(1);
    const written = r.stdout + r.stderr + readFileSync(summary, "utf8") + readFileSync(path.join(out, "check.sarif"), "utf8");
    expect(written).toMatch(/list-address-in-field/);
    expect(written).toMatch(/list-invalid-address/);
    for (let i = 0; i < N; i++) expect(written.includes(recipientAddress(i)), `address ${i} written`).toBe(false);
  });

  it("the approval copy is rendered from the fetched list and goes to the approvers only", async () => {
    const w = await pinnedWorld();
    const r = await runCli(["--root", w.root, "test-send", SAMPLE_DIR], { env: { ...w.env, NEWSLETTER_APPROVAL_SECRET: "approval-secret-0123456789abcdef" } });
    expect(r.code).toBe(0);
    expect(w.smtp.received.map((m) => m.envelope.to[0]).sort()).toEqual(["alice@corp.example", "bob@corp.example", "carol@corp.example"]);
    const parsed = await w.smtp.parsed();
    expect(parsed[0]!.subject).toMatch(/^\[Approval copy\]/);
    for (let i = 0; i < N; i++) expect(w.smtp.received.some((m) => m.raw.includes(recipientAddress(i)))).toBe(false);
  });

  it("a changed object is refused by check and by send, and nothing is sent", async () => {
    const w = await pinnedWorld();
    await w.s3.put(w.key, generatedList(N) + `intruder@example.com,Eve,Free\n`);
    const check = await runCli(["--root", w.root, "check", SAMPLE_DIR], { env: w.env });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/list-pin.*the stored list is not the one that was reviewed/);
    const sent = await runCli(["--root", w.root, "send", SAMPLE_DIR, "--without-approval"], { env: w.env });
    expect(sent.code).toBe(1);
    expect(w.smtp.received).toHaveLength(0);
  });

  it("a missing object is refused, and nothing is sent", async () => {
    const w = await pinnedWorld();
    await w.s3.del(w.key);
    const check = await runCli(["--root", w.root, "check", SAMPLE_DIR], { env: w.env });
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/no such object/);
    const sent = await runCli(["--root", w.root, "send", SAMPLE_DIR, "--without-approval"], { env: w.env });
    expect(sent.code).not.toBe(0);
    expect(sent.stderr).toMatch(/no such object/);
    expect(w.smtp.received).toHaveLength(0);
  });

  it("without credentials: a clear error naming what to set, and nothing is sent", async () => {
    const w = await pinnedWorld();
    const noKeys = { ...w.env };
    delete noKeys.AWS_ACCESS_KEY_ID;
    delete noKeys.AWS_SECRET_ACCESS_KEY;
    const sent = await runCli(["--root", w.root, "send", SAMPLE_DIR, "--without-approval"], { env: noKeys });
    expect(sent.code).not.toBe(0);
    expect(sent.stderr).toMatch(/no AWS credentials found — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or in GitHub Actions/);
    expect(sent.stderr).not.toMatch(/\n\s+at /);
    expect(w.smtp.received).toHaveLength(0);
  });
});

describe("lists by reference on a path, and lists left in git", () => {
  it("a list pinned to a folder beside the repository is checked and its pin verified", async () => {
    const root = sendRepo(N);
    const pin = await runCli(["--root", root, "pin", "customers", path.join(root, "recipients/customers.csv"), "--to", "../lists/"]);
    expect(pin.code).toBe(0);
    const ok = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(ok.code).toBe(0);
    const key = /source: "([^"]+)"/.exec(readFileSync(path.join(root, "recipients/customers.yml"), "utf8"))![1]!;
    expect(key).toMatch(/^\.\.\/lists\/customers-[0-9a-f]{16}\.csv$/);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(path.resolve(root, key), generatedList(N).replace("Name1,", "Mallory,"));
    const changed = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(/list-pin/);
  });

  it("a CSV in recipients/ keeps working with a warning; recipient_data.lists_in_git: error refuses it", async () => {
    const root = sendRepo(N);
    const warned = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/recipients\/customers\.csv[\s\S]*warning\s+list-in-git/);
    const strict = sendRepo(N, { ".github/newsletter.yml": `${fastConfig()}recipient_data:\n  lists_in_git: error\n` });
    const refused = await runCli(["--root", strict, "check", SAMPLE_DIR]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/error\s+list-in-git/);
    // A reference whose path stays inside the repository folder is as good as in git.
    const inside = sendRepo(N);
    await runCli(["--root", inside, "pin", "customers", path.join(inside, "recipients/customers.csv"), "--to", "data/"]);
    const warnedInside = await runCli(["--root", inside, "check", SAMPLE_DIR]);
    expect(warnedInside.code).toBe(0);
    expect(warnedInside.stdout).toMatch(/data\/customers-[0-9a-f]{16}\.csv[\s\S]*warning\s+list-in-git/);
  });

  it("pin writes an absolute folder relative to the root; a reference naming an absolute path is refused", async () => {
    const root = sendRepo(N);
    const outside = path.join(path.dirname(root), `${path.basename(root)}-lists`) + "/";
    expect((await runCli(["--root", root, "pin", "customers", path.join(root, "recipients/customers.csv"), "--to", outside])).code).toBe(0);
    const ref = path.join(root, "recipients/customers.yml");
    expect(readFileSync(ref, "utf8")).toMatch(new RegExp(`source: "\\.\\./${path.basename(root)}-lists/customers-[0-9a-f]{16}\\.csv"`));
    expect((await runCli(["--root", root, "check", SAMPLE_DIR])).code).toBe(0);
    const { writeFileSync } = await import("node:fs");
    writeFileSync(ref, readFileSync(ref, "utf8").replace(/source: ".*"/, `source: "/etc/hostname"`));
    const r = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/schema.*a relative path from the repository root/);
    writeFileSync(ref, readFileSync(ref, "utf8").replace(/source: ".*"/, `source: "../../../../etc/hostname"`));
    const up = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(up.code).toBe(1);
    expect(up.stdout).toMatch(/list-ref.*may reach the folders beside the repository/);
  });

  it("a reference whose row count does not match its bytes is refused", async () => {
    const root = sendRepo(N);
    await runCli(["--root", root, "pin", "customers", path.join(root, "recipients/customers.csv"), "--to", "../lists-rows/"]);
    const ref = path.join(root, "recipients/customers.yml");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(ref, readFileSync(ref, "utf8").replace(`rows: ${N}`, `rows: ${N - 1}`));
    const r = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`list-pin.*pins ${N - 1} rows, but .* has ${N}`));
  });
});
