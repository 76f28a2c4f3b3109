/**
 * Time and history (docs/design.md, "Scheduling and continuation" and "Sent
 * at most once"), end to end through the CLI against a real SMTP server on
 * loopback: send_after with an injected clock, cancelled, due, a send that
 * outlives its time budget and is continued, history that never blocks,
 * in-doubt recipients by Message-ID, a trial apart from the real send, and a
 * dry run that is not throttled.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint, mask } from "../src/address/mask.ts";
import { keyId } from "../src/ledger/ledger.ts";
import { DEVELOPMENT_SECRET } from "../src/keys/secret.ts";
import { runCli, sampleText } from "./helpers/repo.ts";
import { fastConfig, generatedList, recipientAddress, SAMPLE_DIR, sendRepo } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "test-secret-0123456789abcdef";
const ID = "2026-12-01-winter-update";
let server: TestSmtp | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

function env(url: string) {
  return { NEWSLETTER_SMTP_URL: url, NEWSLETTER_SECRET: SECRET };
}

/** The sample's newsletter.yml with extra keys. */
function metaWith(extra: string): string {
  return `${sampleText(`${SAMPLE_DIR}/newsletter.yml`).trimEnd()}\n${extra}\n`;
}

function rateConfig(rate: number, extra = ""): string {
  return fastConfig(extra).replace("rate_per_second: 10000", `rate_per_second: ${rate}`);
}

function gitCommitAll(root: string, message: string): void {
  const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: root, stdio: "ignore" });
  try {
    git("rev-parse", "--git-dir");
  } catch {
    git("init", "-q");
  }
  git("add", "-A");
  git("commit", "-q", "-m", message);
}

function duplicatesAndGaps(s: TestSmtp, expected: readonly string[]): { duplicates: number; gaps: number; strangers: number } {
  const counts = s.countsByRecipient();
  const want = new Set(expected);
  return {
    duplicates: [...counts.values()].filter((c) => c > 1).length,
    gaps: expected.filter((a) => !counts.has(a)).length,
    strangers: [...counts.keys()].filter((a) => !want.has(a)).length,
  };
}

describe("scheduling: send_after with an injected clock", () => {
  // 10:00 in Tokyo is 01:00 UTC.
  const sendAfter = "2026-12-08T10:00:00+09:00";
  const before = () => new Date("2026-12-08T00:59:59Z");
  const after = () => new Date("2026-12-08T01:00:00Z");

  it("before send_after: 0 messages, says when, exit 5, status shows the time; at send_after: all", async () => {
    const n = 50;
    server = await startTestSmtp();
    const root = sendRepo(n, { [`${SAMPLE_DIR}/newsletter.yml`]: metaWith(`send_after: "${sendAfter}"`) });
    const early = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url), now: before });
    expect(early.code).toBe(5);
    expect(early.stdout).toContain("2026-12-08T01:00:00.000Z (in 1 min)");
    expect(server.received).toHaveLength(0);

    const status = await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"], { now: before });
    expect(JSON.parse(status.stdout)).toMatchObject({ state: "scheduled", send_after: sendAfter, destination: null, sent: 0 });
    const due = await runCli(["--root", root, "due", "--format", "json"], { now: before });
    expect(JSON.parse(due.stdout)).toMatchObject({ due: [], scheduled: [{ dir: SAMPLE_DIR, send_after: sendAfter }] });

    // A dry run is a preflight: allowed before the time, sends nothing, says when the real one goes.
    const dry = await runCli(["--root", root, "send", SAMPLE_DIR, "--dry-run"], { env: env(server.url), now: before });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("scheduled: the real send will go at 2026-12-08T01:00:00.000Z");
    expect(server.received).toHaveLength(0);

    const dueNow = await runCli(["--root", root, "due", "--format", "json"], { now: after });
    expect(JSON.parse(dueNow.stdout)).toMatchObject({ due: [{ dir: SAMPLE_DIR }], matrix: { include: [{ dir: SAMPLE_DIR, shard: "all" }] } });
    const onTime = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url), now: after });
    expect(onTime.code).toBe(0);
    expect(server.received).toHaveLength(n - 1); // one suppressed
    // Begun: the schedule no longer picks it up (its own continuation does).
    const dueAfter = await runCli(["--root", root, "due", "--format", "json"], { now: after });
    expect(JSON.parse(dueAfter.stdout).due).toEqual([]);
  }, 60_000);

  it("cancelled: true before the time: send refuses (exit 1), 0 messages, due skips it, status says cancelled", async () => {
    server = await startTestSmtp();
    const root = sendRepo(20, { [`${SAMPLE_DIR}/newsletter.yml`]: metaWith(`send_after: "${sendAfter}"\ncancelled: true`) });
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url), now: after });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cancelled");
    expect(server.received).toHaveLength(0);
    expect(JSON.parse((await runCli(["--root", root, "due", "--format", "json"], { now: after })).stdout).due).toEqual([]);
    expect(JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"], { now: after })).stdout).state).toBe("cancelled");
  }, 60_000);

  it.each([
    ["no zone", "2026-12-08T10:00:00"],
    ["a date alone", "2026-12-08"],
  ])("send_after with %s is refused by check (RFC 3339 needs the zone)", async (_name, value) => {
    const root = sendRepo(5, { [`${SAMPLE_DIR}/newsletter.yml`]: metaWith(`send_after: "${value}"`) });
    const r = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("time zone");
  });

  it("sending.shards: N builds the matrix, and send insists on --shard I/N", async () => {
    const root = sendRepo(10, {
      ".github/newsletter.yml": rateConfig(10000, "  shards: 3\n"),
      [`${SAMPLE_DIR}/newsletter.yml`]: metaWith(`send_after: "${sendAfter}"`),
    });
    const due = JSON.parse((await runCli(["--root", root, "due", "--format", "json"], { now: after })).stdout);
    expect(due.matrix.include.map((m: { shard: string }) => m.shard)).toEqual(["1/3", "2/3", "3/3"]);
    const unsharded = await runCli(["--root", root, "send", SAMPLE_DIR, "--dry-run"], { now: after });
    expect(unsharded.code).toBe(2);
    expect(unsharded.stderr).toContain("--shard I/3");
    const wrong = await runCli(["--root", root, "send", SAMPLE_DIR, "--dry-run", "--shard", "1/2"], { now: after });
    expect(wrong.code).toBe(2);
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--dry-run", "--shard", "2/3"], { now: after })).code).toBe(0);
    const status = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"], { now: after })).stdout);
    expect(status.matrix).toEqual(["1/3", "2/3", "3/3"]);
  }, 60_000);
});

describe("continuation: --time-budget", () => {
  it("3,000 recipients, a budget that ends part-way: exit 75, status says continue; the re-run completes with 0 duplicates and 0 gaps", async () => {
    const n = 3000;
    server = await startTestSmtp();
    const root = sendRepo(n, { ".github/newsletter.yml": rateConfig(1000) });
    const expected = Array.from({ length: n }, (_, i) => recipientAddress(i)).filter((_, i) => i !== 3); // #3 suppressed

    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--time-budget", "1.5"], { env: env(server.url) });
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(first.code).toBe(75);
    expect(first.stdout).toContain("time budget of 1.5 s is spent");
    const part = server.received.length;
    expect(part).toBeGreaterThan(0);
    expect(part).toBeLessThan(n - 1);
    const mid = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"])).stdout);
    expect(mid).toMatchObject({ state: "incomplete", destination: "relay", continue: true, complete: false, in_doubt: 0, sent: part });
    expect(mid.shards).toEqual([{ shard: "all", ended: "halted", detail: "time budget of 1.5 s spent" }]);

    const rest = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(rest.code).toBe(0);
    expect(rest.stdout).toContain(`already sent earlier: ${part}`);
    expect(duplicatesAndGaps(server, expected)).toEqual({ duplicates: 0, gaps: 0, strangers: 0 });
    const done = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"])).stdout);
    expect(done).toMatchObject({ state: "complete", complete: true, continue: false, sent: n - 1 });
    console.log(`[continuation] ${n - 1} recipients: first run ${part} then exit 75, second run ${n - 1 - part}; duplicates 0, gaps 0`);
  }, 120_000);
});

describe("history is immutable and never in the way", () => {
  it("after sign-ups and an unsubscribe: the old newsletter checks green, a new one checks, the halted old send resumes from its list snapshot without the unsubscribed", async () => {
    const n = 400;
    server = await startTestSmtp();
    const root = sendRepo(n, { ".github/newsletter.yml": rateConfig(200) });
    gitCommitAll(root, "the newsletter as merged");

    const first = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--time-budget", "1"], { env: env(server.url) });
    expect(first.code).toBe(75);
    const part = server.received.length;
    expect(part).toBeLessThan(n - 10);

    // Later: three sign-ups and an unsubscribe (the last row: not sent yet), committed to main.
    const signUps = ["new1@example.com", "new2@example.net", "new3@example.org"];
    appendFileSync(path.join(root, "recipients/customers.csv"), signUps.map((a) => `${a},New,Free\n`).join(""));
    const gone = recipientAddress(n - 1);
    appendFileSync(path.join(root, "recipients/suppressions.csv"), `${gone}\n`);
    const newDir = "newsletters/2026-12-15-spring-preview";
    mkdirSync(path.join(root, newDir));
    writeFileSync(path.join(root, newDir, "newsletter.yml"), metaWith("").replace(/^subject:.*$/m, 'subject: "Spring preview"'));
    writeFileSync(path.join(root, newDir, "body.md"), readFileSync(path.join(root, SAMPLE_DIR, "body.md")));
    gitCommitAll(root, "sign-ups, an unsubscribe, a new newsletter");

    const oldCheck = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(oldCheck.stdout + oldCheck.stderr).not.toMatch(/edited-after-send|list-row-change/);
    expect(oldCheck.code).toBe(0);
    const both = await runCli(["--root", root, "check", SAMPLE_DIR, newDir]);
    expect(both.code).toBe(0);

    const resumed = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("resuming with its list as it was then");
    const expected = Array.from({ length: n }, (_, i) => recipientAddress(i)).filter((_, i) => i !== 3 && i !== n - 1);
    expect(duplicatesAndGaps(server, expected)).toEqual({ duplicates: 0, gaps: 0, strangers: 0 });
    const counts = server.countsByRecipient();
    expect(counts.has(gone)).toBe(false);
    for (const a of signUps) expect(counts.has(a)).toBe(false);

    // Complete now: a re-run does nothing, whatever the list says.
    const again = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already complete");
    expect(server.received).toHaveLength(n - 2);
  }, 120_000);

  it.each([
    ["sign-ups that double the list", (root: string) => appendFileSync(path.join(root, "recipients/customers.csv"), generatedList(60).split("\n").slice(41, 61).map((l) => l.replace("@", "+new@")).join("\n") + "\n")],
    ["an unsubscribe", (root: string) => appendFileSync(path.join(root, "recipients/suppressions.csv"), `${recipientAddress(7)}\n`)],
    ["a config change", (root: string) => writeFileSync(path.join(root, ".github/newsletter.yml"), rateConfig(5000))],
  ] as Array<[string, (root: string) => void]>)("after a completed send, %s: its check stays green, a re-run sends nothing", async (_name, change) => {
    const n = 20;
    server = await startTestSmtp();
    const root = sendRepo(n);
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) })).code).toBe(0);
    change(root);
    const check = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(check.stdout).not.toMatch(/edited-after-send|list-row-change/);
    expect(check.code).toBe(0);
    const again = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(again.code).toBe(0);
    expect(server.received).toHaveLength(n - 1);
  }, 60_000);

  it("a halted send whose list snapshot is not in the checkout is refused (exit 1), nothing sent, the way out said", async () => {
    const n = 300;
    server = await startTestSmtp();
    const root = sendRepo(n, { ".github/newsletter.yml": rateConfig(200) }); // not a git repository
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--time-budget", "1"], { env: env(server.url) })).code).toBe(75);
    const part = server.received.length;
    appendFileSync(path.join(root, "recipients/customers.csv"), "late@example.com,Late,Free\n");
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("fetch-depth: 0");
    expect(server.received).toHaveLength(part);
  }, 60_000);

  it("the newsletter's own body edited after its send began still fails its check and its resume", async () => {
    server = await startTestSmtp();
    const root = sendRepo(200, { ".github/newsletter.yml": rateConfig(200) });
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", "--time-budget", "0.8"], { env: env(server.url) })).code).toBe(75);
    const part = server.received.length;
    appendFileSync(path.join(root, SAMPLE_DIR, "body.md"), "\nOne more line.\n");
    const check = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("edited-after-send");
    expect((await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) })).code).toBe(1);
    expect(server.received).toHaveLength(part);
  }, 60_000);
});

describe("in doubt, with Message-IDs", () => {
  it("status lists each in-doubt recipient by Message-ID, masked address and fingerprint (text and JSON); --resend-in-doubt=FILE skips those the relay confirms", async () => {
    // 649 deliverable, every 100th dropped: 6 in doubt; the 3 resent later are messages 650–652 (no fault).
    const n = 650;
    const every = 100;
    server = await startTestSmtp({ faults: { acceptThenDropEvery: every } });
    const root = sendRepo(n);
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(r.code).toBe(3);
    const dropped = [...server.acceptedThenDropped];
    expect(dropped.length).toBe(Math.floor((n - 1) / every));

    // The Message-ID each dropped recipient's message really carried, as the relay's log has it.
    const parsed = await server.parsed();
    const midOf = new Map(parsed.map((m, i) => [server!.received[i]!.envelope.to[0]!, m.messageId!.replace(/^<|>$/g, "")]));
    const json = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"], { env: { NEWSLETTER_SECRET: SECRET } })).stdout);
    expect(json.in_doubt).toBe(dropped.length);
    const listed = new Map<string, { message_id: string; masked: string; fingerprint: string }>(
      json.in_doubt_recipients.map((d: { fingerprint: string }) => [d.fingerprint, d]),
    );
    for (const a of dropped) {
      expect(listed.get(fingerprint(a, SECRET))).toEqual({ message_id: midOf.get(a), masked: mask(a), fingerprint: fingerprint(a, SECRET) });
      expect(r.stdout).toContain(`${midOf.get(a)}  ${mask(a)}`);
    }
    const text = await runCli(["--root", root, "status", SAMPLE_DIR], { env: { NEWSLETTER_SECRET: SECRET } });
    for (const a of dropped) expect(text.stdout).toContain(`<${midOf.get(a)}>  ${mask(a)}`);

    // The relay's log shows the first three as delivered: those are recorded as sent, the others resent.
    const confirmed = dropped.slice(0, 3);
    const file = path.join(root, "delivered.txt");
    writeFileSync(file, `# from the relay's log\n${confirmed.map((a) => `<${midOf.get(a)}>`).join("\n")}\n\n`);
    const resend = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", `--resend-in-doubt=${file}`], { env: env(server.url) });
    expect(resend.code).toBe(0);
    expect(resend.stdout).toContain("confirmed delivered by your file, recorded as sent, not resent: 3");
    expect(resend.stdout).toContain(`sent now: ${dropped.length - 3}`);
    const counts = server.countsByRecipient();
    for (const a of confirmed) expect(counts.get(a)).toBe(1);
    for (const a of dropped.slice(3)) expect(counts.get(a)).toBe(2); // the operator chose to resend these
    const after = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"])).stdout);
    expect(after).toMatchObject({ complete: true, in_doubt: 0, in_doubt_recipients: [] });
    for (const out of [r.stdout, r.stderr, text.stdout, JSON.stringify(json), resend.stdout]) {
      for (let i = 0; i < n; i++) expect(out.includes(recipientAddress(i))).toBe(false);
    }
  }, 120_000);

  it("a Message-ID file with a line that is not one is a usage error naming the line; nothing sent", async () => {
    server = await startTestSmtp();
    const root = sendRepo(10);
    const file = path.join(root, "delivered.txt");
    writeFileSync(file, "<abc.2026-12-01-winter-update@corp.example>\nnot a message id\n");
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval", `--resend-in-doubt=${file}`], { env: env(server.url) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("delivered.txt:2");
    expect(server.received).toHaveLength(0);
  }, 60_000);
});

describe("a trial and the real send apart", () => {
  it("an outbox trial (development key) keeps its own ledger: the real send then sends everyone; status names where the mail went", async () => {
    const n = 30;
    server = await startTestSmtp();
    const root = sendRepo(n);
    const trial = await runCli(["--root", root, "send", SAMPLE_DIR]);
    expect(trial.code).toBe(0);
    expect(trial.stdout).toContain("trial: outbox folder");
    const afterTrial = JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"])).stdout);
    expect(afterTrial).toMatchObject({ destination: "outbox", sent: n - 1, complete: true });
    expect((await runCli(["--root", root, "status", SAMPLE_DIR])).stdout).toContain("to the outbox folder");

    const real = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(real.stderr).not.toContain("another NEWSLETTER_SECRET");
    expect(real.code).toBe(0);
    expect(server.received).toHaveLength(n - 1);
    expect(JSON.parse((await runCli(["--root", root, "status", SAMPLE_DIR, "--format", "json"])).stdout)).toMatchObject({ destination: "relay", sent: n - 1 });
    // And a second trial does not touch the real ledger either.
    expect((await runCli(["--root", root, "send", SAMPLE_DIR])).stdout).toContain("already sent earlier");
  }, 60_000);
});

describe("a trial ledger left in the state folder by an older npm start", () => {
  it("is not history: check stays green after the list changed; the real send refuses it with what to do", async () => {
    server = await startTestSmtp();
    const root = sendRepo(10);
    const dir = path.join(root, ".newsletter-state/ledger", ID);
    mkdirSync(dir, { recursive: true });
    const begin = { t: "begin", v: 1, id: ID, list: "customers", list_rows: 10, digest: "ab".repeat(32), at: "2026-12-01T09:00:00Z", shard: "all", count: 9, key_id: keyId(DEVELOPMENT_SECRET) };
    writeFileSync(path.join(dir, "all.jsonl"), `${JSON.stringify(begin)}\n`);
    const check = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(check.stdout).not.toContain("edited-after-send");
    expect(check.code).toBe(0);
    const real = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: env(server.url) });
    expect(real.code).toBe(1);
    expect(real.stderr).toContain("move it out of the state folder");
    // Nor can a real send use the public development key to pass for a trial.
    const devKey = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], { env: { NEWSLETTER_SMTP_URL: server.url, NEWSLETTER_SECRET: DEVELOPMENT_SECRET } });
    expect(devKey.code).toBe(1);
    expect(devKey.stderr).toContain("public development key");
    expect(server.received).toHaveLength(0);
  }, 60_000);
});

describe("dry run at full speed", () => {
  it("is not held to rate_per_second (200 at 1/s would take 200 s) and its progress says composed, never sent", async () => {
    const n = 200;
    const root = sendRepo(n, { ".github/newsletter.yml": rateConfig(1), "recipients/customers.csv": generatedList(n) });
    const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/composed 199 .*in doubt 0 .*of 199/);
    expect(r.stderr).not.toMatch(/\bsent \d/);
    expect(r.stdout).toContain("composed and guarded: 199");
  }, 30_000);
});
