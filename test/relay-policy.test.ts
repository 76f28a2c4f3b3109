/**
 * The pieces of relay pushback one at a time (docs/design.md, "Sending and
 * relay pushback"): the AIMD rate, the classification of replies, and our
 * client's connection against the fault peer (STARTTLS injection, a 421
 * with an envelope pipelined behind it, per-command timeouts, credentials).
 */
import { afterEach, describe, expect, it } from "vitest";
import { AdaptiveRate, RATE_FLOOR } from "../src/send/policy.ts";
import { DEFAULT_TIMEOUTS, SmtpConnection, type ConnOptions } from "../src/transport/smtp-conn.ts";
import { createPipelinedSmtpTransport } from "../src/transport/smtp-pipelined.ts";
import { failureFromError, pushbackOf } from "../src/transport/smtp-result.ts";
import { readFileSync } from "node:fs";
import { PEER_CA_FILE, startFaultPeer, type FaultPeer } from "./helpers/fault-smtp.ts";

let peer: FaultPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
});

const RAW = Buffer.from("From: news@corp.example\r\nTo: a@example.com\r\nSubject: hi\r\nMessage-ID: <m@corp.example>\r\n\r\nhello\r\n");
const conn = (port: number, o: Partial<ConnOptions> = {}): ConnOptions => ({
  host: "127.0.0.1", port, secure: false, requireTLS: false, tls: { rejectUnauthorized: true, ca: [readFileSync(PEER_CA_FILE, "utf8")] },
  timeouts: DEFAULT_TIMEOUTS, ...o,
});

describe("AdaptiveRate (AIMD)", () => {
  it("halves the achieved rate on throttling, once per 5 s, never below the floor, and adds 1/s per quiet second up to the ceiling", () => {
    const r = new AdaptiveRate(1000, 0);
    for (let i = 0; i < 100; i++) r.onSuccess(i * 10); // 100 in 1 s: achieved 100/s
    r.onThrottle(1000);
    expect(r.rate).toBe(50);
    r.onThrottle(1500); // the same burst: no second cut
    expect(r.rate).toBe(50);
    for (let t = 6000; t < 60_000; t += 5000) r.onThrottle(t);
    expect(r.rate).toBe(RATE_FLOOR);
    r.onSuccess(59_000); // 3 s after the last cut (56 s)
    expect(r.rate).toBeCloseTo(RATE_FLOOR + 3, 5);
    r.onSuccess(2_000_000);
    expect(r.rate).toBe(1000);
  });
});

describe("reply classification", () => {
  it.each([
    [450, "450 4.7.1 Error: too much mail from 192.0.2.1", "throttled"],
    [451, "451 4.7.500 Server busy. Please try again later", "throttled"],
    [421, "421-4.7.28 Our system has detected an unusual rate\n421 4.7.28 of unsolicited mail", "throttled"],
    [454, "454 Throttling failure: Maximum sending rate exceeded.", "throttled"],
    [452, "452 4.5.3 Too many recipients", undefined],
    [451, "451 4.3.0 Temporary lookup failure", undefined],
    [550, "550 5.7.1 Rejected by policy", undefined],
  ])("%i %s → %s", (code, text, want) => {
    expect(pushbackOf("EENVELOPE", code, text)).toBe(want);
    const r = failureFromError({ code: "EENVELOPE", responseCode: code, response: text, message: text }, []);
    expect(r).toMatchObject({ ok: false, permanent: want === undefined && code >= 500 });
  });

  it("authentication and connection failures are pushback, not a verdict on the message", () => {
    expect(pushbackOf("EAUTH", 535, "535 5.7.8 nope")).toBe("auth");
    expect(pushbackOf("ECONNECTION", undefined, "closed")).toBe("connection");
    expect(pushbackOf("EPROTOCOL", 421, "421 4.3.2 busy")).toBe("connection");
  });
});

describe("our SMTP connection against the fault peer", () => {
  it("STARTTLS: a byte buffered after the 220 ends the connection as a protocol error (RFC 3207 §4.2); clean, it upgrades and says EHLO again", async () => {
    peer = await startFaultPeer({ starttls: true, inject: { bytes: "250 SIZE 1\r\n", connections: [1] } });
    const err = await SmtpConnection.open(conn(peer.port)).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: "EPROTOCOL", command: "STARTTLS" });
    expect(failureFromError(err, [])).toMatchObject({ ok: false, permanent: false, pushback: "connection" });
    const c = await SmtpConnection.open(conn(peer.port));
    expect(c.maxSize).toBe(10485760); // the EHLO after TLS, not an injected "SIZE 1"
    expect(await c.send("news@corp.example", "a@example.com", RAW, false)).toMatch(/^250/);
    await c.quit();
  });

  it("each wait has its own bound: a greeting slower than greetingMs fails in that time, not the socket's minutes", async () => {
    peer = await startFaultPeer({ greetingDelayMs: 2000 });
    const t0 = Date.now();
    const err = await SmtpConnection.open(conn(peer.port, { timeouts: { ...DEFAULT_TIMEOUTS, greetingMs: 200 } })).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: "ETIMEDOUT" });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("a withheld final reply past finalMs is in doubt", async () => {
    peer = await startFaultPeer({ withholdFinal: true });
    const c = await SmtpConnection.open(conn(peer.port, { timeouts: { ...DEFAULT_TIMEOUTS, finalMs: 200 } }));
    const err = await c.send("news@corp.example", "a@example.com", RAW, false).then(() => null, (e: unknown) => e);
    expect(failureFromError(err, [])).toMatchObject({ ok: false, inDoubt: true });
    c.destroy();
  });

  it("wrong credentials: two AUTH attempts in all (one retry on a fresh connection), then every message fails as auth without connecting", async () => {
    peer = await startFaultPeer({ auth: { user: "news", pass: "right" } });
    const t = createPipelinedSmtpTransport(`smtp://news:wrong@127.0.0.1:${peer.port}`, { connections: 5 });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => t.deliver({ from: "news@corp.example", to: `u${i}@example.com` }, RAW)));
    for (const r of rs) expect(r).toMatchObject({ ok: false, pushback: "auth" });
    expect(peer.stats.authAttempts).toBe(2);
    expect(JSON.stringify(rs)).not.toContain("wrong");
    await t.close();
  });

  it("a 421 at the end of data with the next envelope pipelined behind it: that envelope's data is never written; it goes over a fresh connection", async () => {
    peer = await startFaultPeer({ eod421After: 2, lingerMs: 300 });
    const t = createPipelinedSmtpTransport(peer.url, { connections: 1 });
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => t.deliver({ from: "news@corp.example", to: `u${i}@example.com` }, RAW)));
    expect(rs.every((r) => r.ok)).toBe(true);
    expect(peer.stats.dataAfter421).toBe(0);
    expect([...peer.counts().values()].every((n) => n === 1)).toBe(true);
    expect(peer.delivered).toHaveLength(6);
    await t.close();
  });

  it("abort() cuts at once and counts the messages whose data is out without a reply", async () => {
    peer = await startFaultPeer({ withholdFinal: true });
    const t = createPipelinedSmtpTransport(peer.url, { connections: 2 });
    const pending = Array.from({ length: 2 }, (_, i) => t.deliver({ from: "news@corp.example", to: `u${i}@example.com` }, RAW));
    await peer.firstData;
    await new Promise((r) => setTimeout(r, 100));
    const left = t.abort!();
    const rs = await Promise.all(pending);
    // The first one's data is out (in doubt); the second went out after it or was pipelined behind it (never its data).
    expect(left).toBeGreaterThanOrEqual(1);
    expect(rs.filter((r) => !r.ok && r.inDoubt === true)).toHaveLength(left);
    expect(rs.every((r) => !r.ok)).toBe(true);
  });
});
