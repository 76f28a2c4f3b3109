/**
 * `send` against a relay that pushes back (docs/design.md, "Sending and relay
 * pushback"): the fault-injecting peer (helpers/fault-smtp.ts), one mode per
 * case, each changing one base world. Every case asserts what arrived at the
 * peer (each recipient once), the ledger's states, and the exit code.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ledgerPath } from "../src/ledger/fs-store.ts";
import { parseLedger } from "../src/ledger/records.ts";
import { foldLedger } from "../src/ledger/state.ts";
import { PROJECT, runCli } from "./helpers/repo.ts";
import { PEER_CA_FILE, startFaultPeer, type FaultPeer, type PeerFaults } from "./helpers/fault-smtp.ts";
import { recipientAddress, sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";

const SECRET = "pushback-secret-0123456789abcdef";
const ID = "2026-12-01-winter-update";
/** 41 rows, one suppressed: 40 messages. */
const ROWS = 41;
const EXPECTED = ROWS - 1;

let peer: FaultPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
});

interface Outcome {
  code: number;
  delivered: number;
  duplicates: number;
  sent: number;
  inDoubt: number;
  failed: number;
  claimed: number;
  stdout: string;
  stderr: string;
}

function ledgerCounts(root: string) {
  const file = ledgerPath(path.join(root, ".newsletter-state"), ID, "all");
  const out = { sent: 0, inDoubt: 0, failed: 0, claimed: 0 };
  if (!existsSync(file)) return out;
  const state = foldLedger(parseLedger(readFileSync(file, "utf8"), file));
  for (const [, s] of state.recipients) {
    out.claimed++;
    if (s === "sent") out.sent++;
    else if (s === "claimed") out.inDoubt++;
    else out.failed++;
  }
  return out;
}

type Client = "pipelined" | "nodemailer";

async function sendTo(faults: PeerFaults, o: { user?: string; pass?: string } = {}, client: Client = "pipelined"): Promise<Outcome> {
  peer = await startFaultPeer(faults);
  const root = sendRepo(ROWS);
  const cred = o.user ? `${o.user}:${o.pass ?? ""}@` : "";
  const url = `smtp://${cred}127.0.0.1:${peer.port}`;
  const r = await runCli(["--root", root, "send", SAMPLE_DIR, "--without-approval"], {
    env: { NEWSLETTER_SMTP_URL: url, NEWSLETTER_SECRET: SECRET, NEWSLETTER_SMTP_CA_FILE: PEER_CA_FILE, NEWSLETTER_SMTP_CLIENT: client },
  });
  const counts = peer.counts();
  const duplicates = [...counts.values()].reduce((a, c) => a + (c > 1 ? c - 1 : 0), 0);
  return { code: r.code, delivered: counts.size, duplicates, ...ledgerCounts(root), stdout: r.stdout, stderr: r.stderr };
}

interface Case {
  name: string;
  faults: PeerFaults;
  cred?: { user: string; pass: string };
  expect: { code: number; delivered: number; sent: number; inDoubt: number; claimed?: number };
  extra?: (o: Outcome, p: FaultPeer) => void;
}

const THROTTLE_WINDOW_MS = 1500;
const throttle = (reply: string, at?: "rcpt" | "data"): PeerFaults => ({ throttle: { max: 12, windowMs: THROTTLE_WINDOW_MS, reply, ...(at ? { at } : {}) } });
const noAbort = (o: Outcome) => {
  expect(o.stdout).not.toContain("ABORTED");
  expect(o.stdout).not.toContain("circuit breaker");
};

const all = { code: 0, delivered: EXPECTED, sent: EXPECTED, inDoubt: 0 };
const CASES: Case[] = [
  { name: "452 4.5.3 after 7 messages on a connection", faults: { rcptLimitPerConnection: 7 }, expect: all, extra: noAbort },
  { name: "421 at the end of data after 5 messages, closing at once", faults: { eod421After: 5 }, expect: all, extra: noAbort },
  {
    name: "421 at the end of data after 5 messages, lingering 300 ms",
    faults: { eod421After: 5, lingerMs: 300 },
    expect: all,
    extra: (o, p) => {
      noAbort(o);
      expect(p.stats.dataAfter421, "message data written after a 421").toBe(0);
    },
  },
  { name: "close after the 250 of every 4th message on a connection", faults: { closeAfter250: 4 }, expect: all, extra: noAbort },
  { name: "busy greeting on the first 3 connections", faults: { busyGreetings: 3 }, expect: all, extra: noAbort },
  { name: "greeting 400 ms late, every reply 15 ms late", faults: { greetingDelayMs: 400, replyDelayMs: 15 }, expect: all, extra: noAbort },
  {
    name: "dropped before the final reply, every 10th message (kept by the server)",
    faults: { dropBeforeFinalEvery: 10 },
    expect: { code: 3, delivered: EXPECTED, sent: EXPECTED - 4, inDoubt: 4 },
  },
  {
    // Longer than every retry of a fixed count (6 attempts, 0.5–16 s apart) together: waited out only by a bound in time.
    name: "throttling window of 20 s, 450 4.7.1 (Postfix anvil)",
    faults: { throttle: { max: 25, windowMs: 20_000, reply: "450 4.7.1 Error: too much mail from 127.0.0.1" } },
    expect: all,
    extra: noAbort,
  },
  {
    name: "throttling window, 421-4.7.28 (Gmail), closing",
    faults: throttle("421-4.7.28 Our system has detected an unusual rate of\r\n421 4.7.28 unsolicited mail. To protect our users, mail is limited."),
    expect: all,
    extra: noAbort,
  },
  { name: "throttling window, 454 Throttling failure (SES) at the end of data", faults: throttle("454 Throttling failure: Maximum sending rate exceeded.", "data"), expect: all, extra: noAbort },
  {
    name: "AUTH required, wrong password",
    faults: { auth: { user: "news", pass: "right" } },
    cred: { user: "news", pass: "wrong" },
    expect: { code: 1, delivered: 0, sent: 0, inDoubt: 0, claimed: 0 },
    extra: (o, p) => {
      expect(p.stats.authAttempts).toBeLessThanOrEqual(2);
      expect(o.stderr).toMatch(/credentials|authentication/i);
    },
  },
  {
    name: "STARTTLS response injection on every connection",
    faults: { starttls: true, inject: { bytes: "250 SIZE 1\r\n" } },
    expect: { code: 1, delivered: 0, sent: 0, inDoubt: 0, claimed: 0 },
    extra: (o) => expect(o.stderr).toMatch(/STARTTLS/),
  },
  {
    name: "STARTTLS response injection on the 2nd connection only",
    faults: { starttls: true, inject: { bytes: "250 SIZE 1\r\n", connections: [2] } },
    expect: all,
    extra: noAbort,
  },
];

/**
 * The modes nodemailer's pool (NEWSLETTER_SMTP_CLIENT=nodemailer) is held to as well. Not STARTTLS
 * injection: nodemailer drops what it buffered before TLS (its own fresh start), and delivers.
 */
const NODEMAILER_CASES = new Set([
  "452 4.5.3 after 7 messages on a connection",
  "throttling window, 454 Throttling failure (SES) at the end of data",
  "AUTH required, wrong password",
]);

describe.each([
  ["pipelined", CASES],
  ["nodemailer", CASES.filter((c) => NODEMAILER_CASES.has(c.name))],
] as Array<[Client, Case[]]>)("send through the %s client against a relay that pushes back", (client, cases) => {
  for (const c of cases) {
    it(c.name, async () => {
      const o = await sendTo(c.faults, c.cred ?? {}, client);
      const row = `| ${client} | ${c.name} | ${o.code} | ${o.delivered} | ${o.inDoubt} | ${o.duplicates} | failed ${o.failed} |`;
      console.log(row);
      expect(o.stderr).not.toMatch(/\n\s+at /);
      for (let i = 0; i < ROWS; i++) expect(o.stdout + o.stderr, "an address printed in full").not.toContain(recipientAddress(i));
      expect(o.duplicates).toBe(0);
      expect({ code: o.code, delivered: o.delivered, sent: o.sent, inDoubt: o.inDoubt }).toEqual({
        code: c.expect.code, delivered: c.expect.delivered, sent: c.expect.sent, inDoubt: c.expect.inDoubt,
      });
      if (c.expect.claimed !== undefined) expect(o.claimed).toBe(c.expect.claimed);
      c.extra?.(o, peer!);
    }, 120_000);
  }
});

describe("a signal while the relay withholds its reply", () => {
  function start(root: string, url: string) {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/bin.ts", "--root", root, "send", SAMPLE_DIR, "--without-approval"], {
      cwd: PROJECT,
      env: { ...process.env, NEWSLETTER_SMTP_URL: url, NEWSLETTER_SECRET: SECRET, NEWSLETTER_SMTP_CA_FILE: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on("exit", (code) => resolve({ code, at: Date.now() })));
    return { child, exited, output: () => out };
  }

  it.each([
    ["SIGTERM once: stops within 5 s (3 s of grace, then cut)", ["SIGTERM"], 143],
    ["SIGINT twice: the second stops at once and says how many it leaves in doubt", ["SIGINT", "SIGINT"], 130],
  ] as Array<[string, NodeJS.Signals[], number]>)("%s", async (_name, signals, code) => {
    peer = await startFaultPeer({ withholdFinal: true });
    const root = sendRepo(ROWS);
    const run = start(root, peer.url);
    await Promise.race([peer.firstData, run.exited]);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    for (const s of signals) {
      run.child.kill(s);
      await new Promise((r) => setTimeout(r, 100));
    }
    const end = await Promise.race([run.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    if (end === null) run.child.kill("SIGKILL");
    expect(end, `still running 10 s after ${signals.join(", ")}\n${run.output()}`).not.toBeNull();
    const took = end!.at - t0;
    expect(end!.code).toBe(code);
    expect(took).toBeLessThan(signals.length > 1 ? 2000 : 5000);
    const ledger = ledgerCounts(root);
    console.log(`| ${signals.join(" + ")} | ${end!.code} | ${peer.delivered.length} | ${ledger.inDoubt} | stopped in ${took} ms |`);
    // Nothing was kept by this peer; every message whose data went out is in doubt, the rest were never sent.
    expect(peer.delivered).toHaveLength(0);
    expect(ledger.sent).toBe(0);
    expect(ledger.inDoubt).toBeGreaterThan(0);
    if (signals.length > 1) expect(run.output()).toMatch(new RegExp(`${ledger.inDoubt} message\\(s\\) in flight left in doubt`));
  }, 60_000);
});
