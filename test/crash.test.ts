/**
 * Crash safety (docs/design.md, "Sent at most once"): `send` as a real child process, killed with
 * SIGKILL at random points and resumed; and halted with SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fingerprint } from "../src/address/mask.ts";
import { claimWindow } from "../src/cli/commands/send.ts";
import { ledgerPath } from "../src/ledger/fs-store.ts";
import { parseLedger } from "../src/ledger/records.ts";
import { foldLedger, inDoubt } from "../src/ledger/state.ts";
import { PROJECT } from "./helpers/repo.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const SECRET = "crash-secret-0123456789abcdef";
const ID = "2026-12-01-winter-update";
let server: TestSmtp | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>;
}

function startSend(root: string, url: string, extra: string[] = []): Run {
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", "--root", root, "send", SAMPLE_DIR, "--without-approval", ...extra], {
    cwd: PROJECT,
    env: { ...process.env, NEWSLETTER_SMTP_URL: url, NEWSLETTER_SECRET: SECRET },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })),
  );
  return { child, done };
}

async function whenReceived(s: TestSmtp, count: number, run: Run): Promise<boolean> {
  let exited = false;
  void run.done.then(() => (exited = true));
  while (s.received.length < count) {
    if (exited) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

function ledgerState(root: string) {
  const file = ledgerPath(path.join(root, ".newsletter-state"), ID, "all");
  return { text: readFileSync(file, "utf8"), state: foldLedger(parseLedger(readFileSync(file, "utf8"), file)) };
}

describe("the claim window", () => {
  it("local ledger: 8 in flight per connection (40 for 5), claims in groups of half that; never below 20", () => {
    expect(claimWindow(false, 5, 20_000)).toEqual({ batchSize: 20, maxInFlight: 40 });
    expect(claimWindow(false, 1, 20_000)).toEqual({ batchSize: 10, maxInFlight: 20 });
  });
});

describe("crash safety", () => {
  it("kill -9 at random points, then resume: no duplicates, every missing recipient in doubt; --resend-in-doubt completes", async () => {
    const n = 1500;
    server = await startTestSmtp();
    const root = sendRepo(n);
    const deliverable = n - 1;
    // Random but reproducible kill points, increasing.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const points = [0.15, 0.45, 0.75].map((f) => Math.floor(deliverable * (f + rand() * 0.1)));
    const kills: Array<{ at: number; inDoubt: number }> = [];
    for (const at of points) {
      const run = startSend(root, server.url);
      const reached = await whenReceived(server, at, run);
      run.child.kill("SIGKILL");
      const r = await run.done;
      expect(reached, `the send finished before the kill point ${at}: ${r.stderr}`).toBe(true);
      expect(r.signal).toBe("SIGKILL");
      kills.push({ at: server.received.length, inDoubt: inDoubt(ledgerState(root).state).length });
    }

    const resume = startSend(root, server.url);
    const r = await resume.done;
    expect(r.code).toBe(3); // finished, but some are in doubt
    const counts = server.countsByRecipient();
    expect([...counts.values()].filter((c) => c > 1)).toEqual([]);

    const { state, text } = ledgerState(root);
    const doubt = new Set(inDoubt(state));
    const missing: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i === 3) continue; // suppressed
      const a = recipientAddress(i);
      if (!counts.has(a)) missing.push(a);
    }
    // Every recipient without a message is listed in doubt (by fingerprint, in the ledger and the summary).
    for (const a of missing) {
      const fp = fingerprint(a, SECRET);
      expect(doubt.has(fp)).toBe(true);
      expect(r.stdout).toContain(fp.slice(0, 12));
    }
    // Bounded by what was claimed without an outcome at each kill: the local window (5 connections).
    // (In doubt adds up: a resumed run skips those of the kills before.)
    kills.forEach((k, i) => expect(k.inDoubt - (kills[i - 1]?.inDoubt ?? 0)).toBeLessThanOrEqual(claimWindow(false, 5, n).maxInFlight));
    expect(doubt.size).toBeLessThanOrEqual(3 * claimWindow(false, 5, n).maxInFlight);
    for (let i = 0; i < n; i++) expect(text.includes(recipientAddress(i))).toBe(false);

    const finish = startSend(root, server.url, ["--resend-in-doubt"]);
    const f = await finish.done;
    expect(f.code).toBe(0);
    const after = server.countsByRecipient();
    expect(after.size).toBe(deliverable);
    const dupes = [...after.entries()].filter(([, c]) => c > 1).map(([a]) => a);
    // Only in-doubt recipients whose first message did arrive can get a second one.
    for (const a of dupes) expect(doubt.has(fingerprint(a, SECRET))).toBe(true);
    console.log(
      `kill -9 replay: kills at ${kills.map((k) => k.at).join(", ")} messages; in doubt after resume ${doubt.size} ` +
        `(${missing.length} without a message, ${doubt.size - missing.length} whose message had arrived); ` +
        `duplicates before --resend-in-doubt 0, after ${dupes.length}; gaps 0`,
    );
  }, 240_000);

  it("SIGTERM mid-send: exit 143 within 5 s, no recipient in doubt, and a resume completes exactly once", async () => {
    const n = 1500;
    server = await startTestSmtp();
    const root = sendRepo(n);
    const run = startSend(root, server.url);
    expect(await whenReceived(server, 300, run)).toBe(true);
    const t0 = Date.now();
    run.child.kill("SIGTERM");
    const r = await run.done;
    const ms = Date.now() - t0;
    expect(r.code).toBe(143);
    expect(ms).toBeLessThan(5000);
    expect(r.stdout).toContain("HALTED by SIGTERM");
    const { state } = ledgerState(root);
    expect(inDoubt(state)).toEqual([]);
    const sentInLedger = [...state.recipients.values()].filter((s) => s === "sent").length;
    expect(sentInLedger).toBe(server.received.length);

    const resume = startSend(root, server.url);
    const f = await resume.done;
    expect(f.code).toBe(0);
    const counts = server.countsByRecipient();
    expect(counts.size).toBe(n - 1);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    console.log(`SIGTERM after ${sentInLedger} messages: exited 143 in ${ms} ms; resume sent ${n - 1 - sentInLedger}, duplicates 0`);
  }, 120_000);
});
