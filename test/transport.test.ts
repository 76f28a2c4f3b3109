/**
 * Transports through real parts: both SMTP clients — nodemailer's pool
 * (smtp.ts) and our pipelined client (smtp-pipelined.ts), every case run
 * against each — into an in-process smtp-server (test/helpers/smtp.ts) with
 * its fault injection, and the outbox on a temp folder.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { UsageError } from "../src/errors.ts";
import { createOutboxTransport, fileStem, messageIdOf } from "../src/transport/outbox.ts";
import type { Envelope, MailTransport } from "../src/mail/port.ts";
import { chooseTransport, createTransportFromEnv } from "../src/transport/select.ts";
import { createSmtpTransport } from "../src/transport/smtp.ts";
import type { SmtpTransportOptions } from "../src/transport/smtp-policy.ts";
import { createPipelinedSmtpTransport } from "../src/transport/smtp-pipelined.ts";
import { failureFromError } from "../src/transport/smtp-result.ts";
import { parseSmtpUrl } from "../src/transport/smtp-url.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const FROM = "news@corp.example";

function message(to: string, opts: { id?: string; body?: string } = {}): Buffer {
  const lines = [
    `From: Example Corp News <${FROM}>`,
    `To: <${to}>`,
    "Subject: Winter update",
    ...(opts.id === "" ? [] : [`Message-ID: <${opts.id ?? "nl.2026-12-01.abc123"}@corp.example>`]),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
    "",
    opts.body ?? "Hello,\r\n.a line starting with a dot (RFC 5321 §4.5.2 transparency)\r\n.\r\n..\r\nこんにちは\r\nBye",
    "",
  ];
  return Buffer.from(lines.join("\r\n"), "utf8");
}

const env = (to: string): Envelope => ({ from: FROM, to });

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function server(opts: Parameters<typeof startTestSmtp>[0] = {}): Promise<TestSmtp> {
  const s = await startTestSmtp(opts);
  cleanups.push(() => s.close());
  return s;
}

type Factory = (url: string, opts: SmtpTransportOptions) => MailTransport;
let factory: Factory = createSmtpTransport;

function smtp(url: string, connections = 2, tls?: { rejectUnauthorized?: boolean }): MailTransport {
  const t = factory(url, { connections, ...(tls ? { tls } : {}) });
  cleanups.push(() => t.close());
  return t;
}

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), "nl-outbox-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** The same safety proof for both SMTP clients: nodemailer's pool (smtp.ts) and ours (smtp-pipelined.ts). */
describe.each([
  ["nodemailer's pool", createSmtpTransport],
  ["our pipelined client", createPipelinedSmtpTransport],
] as Array<[string, Factory]>)("SMTP transport through %s", (clientName, make) => {
  beforeEach(() => {
    factory = make;
  });
  it("delivers the bytes unchanged with exactly one envelope recipient", async () => {
    const s = await server();
    const t = smtp(s.url);
    const raw = message("taro@example.net");
    const r = await t.deliver(env("taro@example.net"), raw);
    expect(r).toEqual({ ok: true, response: expect.stringContaining("250") });
    expect(s.received).toHaveLength(1);
    const got = s.received[0]!;
    expect(got.envelope).toEqual({ from: FROM, to: ["taro@example.net"] });
    // Dot-stuffing is undone by the server; neither side adds a header.
    expect(got.raw.equals(raw)).toBe(true);
    const [parsed] = await s.parsed();
    expect(parsed?.messageId).toBe("<nl.2026-12-01.abc123@corp.example>");
    expect(parsed?.text).toContain(".a line starting with a dot");
    expect(s.countsByRecipient()).toEqual(new Map([["taro@example.net", 1]]));
  });

  it("adds only the CRLF SMTP needs before the final dot when the message lacks one", async () => {
    const s = await server();
    const t = smtp(s.url);
    const raw = Buffer.from("Subject: x\r\n\r\nno final newline", "utf8");
    expect((await t.deliver(env("a@example.com"), raw)).ok).toBe(true);
    expect(s.received[0]?.raw.toString("utf8")).toBe("Subject: x\r\n\r\nno final newline\r\n");
  });

  it("maps 550 to permanent and never shows the recipient in the message", async () => {
    const s = await server({ faults: { permFailFor: (r) => r.startsWith("gone") } });
    const t = smtp(s.url);
    const r = await t.deliver(env("gone.user@example.net"), message("gone.user@example.net"));
    expect(r.ok).toBe(false);
    if (r.ok || r.inDoubt) throw new Error("expected a refusal");
    expect(r.permanent).toBe(true);
    expect(r.code).toBe(550);
    expect(r.message).toContain("550");
    expect(r.message).not.toMatch(/gone\.user@example\.net/i);
    expect(r.message).toContain("g***@e***.net");
    expect(s.received).toHaveLength(0);
    // The pool keeps working after a rejection.
    expect((await t.deliver(env("ok@example.net"), message("ok@example.net"))).ok).toBe(true);
  });

  it("maps a 550 after DATA to permanent, redacted", async () => {
    const s = await server({ faults: { permFailRate: 1 } });
    const t = smtp(s.url);
    const r = await t.deliver(env("hanako@example.org"), message("hanako@example.org"));
    expect(r).toMatchObject({ ok: false, permanent: true, code: 550 });
    expect(JSON.stringify(r)).not.toContain("hanako@example.org");
  });

  it("maps 421 and 451 to transient", async () => {
    const s = await server({ faults: { tempFailRate: 1, seed: 7 } });
    const t = smtp(s.url);
    const codes = new Set<number | undefined>();
    for (let i = 0; i < 6; i++) {
      const r = await t.deliver(env(`u${i}@example.com`), message(`u${i}@example.com`, { id: `m${i}` }));
      expect(r).toMatchObject({ ok: false, permanent: false });
      if (!r.ok && !r.inDoubt) {
        codes.add(r.code);
        expect(r.message).not.toContain(`u${i}@example.com`);
      }
    }
    // A 421 (the server closing that connection) is tried again on a fresh connection (ours: up to
    // three times; nodemailer's: once, on a fresh pool) before the refusal is reported.
    expect([...codes].every((c) => c === 421 || c === 451)).toBe(true);
    expect(codes.size).toBeGreaterThan(0);
    expect(s.stats.tempFailed).toBeGreaterThanOrEqual(6);
  });

  it("maps a 451 at RCPT TO to transient", async () => {
    const s = await server({ faults: { tempFailFor: () => true } });
    const r = await smtp(s.url).deliver(env("busy@example.com"), message("busy@example.com"));
    expect(r).toMatchObject({ ok: false, permanent: false, code: 451 });
  });

  // Every connection case twice: through sendMail (no Message-ID given) and the raw path (smtp-raw.ts, with one).
  for (const withId of [false, true]) {
    const meta = (id: string) => (withId ? { messageId: `${id}@corp.example` } : undefined);
    const how = withId ? "raw path" : "sendMail";

    it(`reports a connection dropped after the end of data as in doubt, not retried; the pool reconnects for the next message (${how})`, async () => {
      const s = await server({ faults: { dropEvery: 2 } });
      const t = smtp(s.url, 1);
      const r1 = await t.deliver(env("one@example.com"), message("one@example.com", { id: "1" }), meta("1"));
      const r2 = await t.deliver(env("two@example.com"), message("two@example.com", { id: "2" }), meta("2"));
      const r3 = await t.deliver(env("three@example.com"), message("three@example.com", { id: "3" }), meta("3"));
      expect(r1.ok).toBe(true);
      // The server discarded it, but the client cannot know: it wrote the end of data and no reply came.
      expect(r2).toMatchObject({ ok: false, inDoubt: true });
      expect(r2.ok ? "" : r2.message).toMatch(/ECONNECTION|ESOCKET/);
      expect(r2.ok ? "" : r2.message).not.toContain("two@example.com");
      expect(r3.ok).toBe(true);
      // The client did not resend the dropped message on its own (the bytes had gone out).
      expect(s.stats.dropped).toBe(1);
      expect(s.received.map((m) => m.envelope.to[0])).toEqual(["one@example.com", "three@example.com"]);
    });

    it(`accept then drop: the accepted message whose 250 never came is in doubt, the next ones go on over new connections (${how})`, async () => {
      const s = await server({ faults: { acceptThenDropEvery: 2 } });
      const t = smtp(s.url, 1);
      const rs = [];
      for (let i = 1; i <= 5; i++) rs.push(await t.deliver(env(`a${i}@example.com`), message(`a${i}@example.com`, { id: `a${i}` }), meta(`a${i}`)));
      expect(rs.map((r) => (r.ok ? "sent" : r.inDoubt ? "in doubt" : "failed"))).toEqual(["sent", "in doubt", "sent", "in doubt", "sent"]);
      for (const r of rs) expect(JSON.stringify(r)).not.toMatch(/a\d@example\.com/);
      // Each message arrived exactly once: in doubt means "maybe delivered", and here it was.
      expect(s.received.map((m) => m.envelope.to[0])).toEqual(["a1@example.com", "a2@example.com", "a3@example.com", "a4@example.com", "a5@example.com"]);
      expect(s.acceptedThenDropped).toEqual(["a2@example.com", "a4@example.com"]);
    });

    it(`a connection dropped at RCPT TO (before any data) is transient: retryable, and nothing arrived (${how})`, async () => {
      const s = await server({ faults: { dropAtRcptEvery: 2 } });
      const t = smtp(s.url, 1);
      const r1 = await t.deliver(env("r1@example.com"), message("r1@example.com", { id: "r1" }), meta("r1"));
      const r2 = await t.deliver(env("r2@example.com"), message("r2@example.com", { id: "r2" }), meta("r2"));
      expect(r1.ok).toBe(true);
      // nodemailer's pool re-queues a message none of which was read on a reused connection, so
      // it may have gone through on a new connection by itself; never twice, never in doubt.
      if (!r2.ok) expect(r2).toMatchObject({ ok: false, permanent: false });
      expect(r2.ok ? false : r2.inDoubt === true).toBe(false);
      const again = r2.ok ? r2 : await t.deliver(env("r2@example.com"), message("r2@example.com", { id: "r2" }), meta("r2"));
      expect(again.ok).toBe(true);
      expect(s.stats.droppedAtRcpt).toBeGreaterThanOrEqual(1);
      expect(s.countsByRecipient()).toEqual(new Map([["r1@example.com", 1], ["r2@example.com", 1]]));
    });
  }

  it("reports a refused connection as transient, without crashing or an unhandled rejection", async () => {
    const port = await closedPort();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    process.on("uncaughtException", onUnhandled);
    try {
      const t = smtp(`smtp://127.0.0.1:${port}`, 3);
      const results = await Promise.all(
        [1, 2, 3, 4].map((i) => t.deliver(env(`r${i}@example.com`), message(`r${i}@example.com`))),
      );
      for (const r of results) {
        expect(r).toMatchObject({ ok: false, permanent: false });
        expect(r.ok ? "" : r.message).toMatch(/ECONNREFUSED/);
      }
      await t.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      process.off("uncaughtException", onUnhandled);
    }
  });

  it("authenticates with the user and password from the URL, percent-decoded", async () => {
    const s = await server({ auth: { user: "mailer@corp.example", pass: "p@ss:w/rd" } });
    const t = smtp(`smtp://${encodeURIComponent("mailer@corp.example")}:${encodeURIComponent("p@ss:w/rd")}@127.0.0.1:${s.port}`);
    expect(t.name).toBe(`smtp://127.0.0.1:${s.port}`);
    expect((await t.deliver(env("a@example.com"), message("a@example.com"))).ok).toBe(true);
    expect(s.received[0]?.user).toBe("mailer@corp.example");
  });

  it("reports wrong credentials as transient (not the recipient's fault) without echoing them", async () => {
    const s = await server({ auth: { user: "mailer", pass: "right-password" } });
    const t = smtp(`smtp://mailer:wrong-password@127.0.0.1:${s.port}`);
    const r = await t.deliver(env("a@example.com"), message("a@example.com"));
    expect(r).toMatchObject({ ok: false, permanent: false, code: 535 });
    expect(r.ok ? "" : r.message).toContain("EAUTH");
    expect(r.ok ? "" : r.message).not.toContain("wrong-password");
  });

  it("upgrades with STARTTLS when offered, and speaks TLS from the start for smtps://", async () => {
    const starttls = await server({ tls: "starttls" });
    expect((await smtp(starttls.url, 1, { rejectUnauthorized: false }).deliver(env("a@example.com"), message("a@example.com"))).ok).toBe(true);
    expect(starttls.received[0]?.secure).toBe(true);

    const implicit = await server({ tls: "implicit" });
    const t = smtp(implicit.url, 1, { rejectUnauthorized: false });
    expect(t.name).toBe(`smtps://127.0.0.1:${implicit.port}`);
    expect((await t.deliver(env("b@example.com"), message("b@example.com"))).ok).toBe(true);
    expect(implicit.received[0]?.secure).toBe(true);
  });

  it("verifies certificates by default: a self-signed server fails, transient", async () => {
    const s = await server({ tls: "starttls" });
    const r = await smtp(s.url, 1).deliver(env("a@example.com"), message("a@example.com"));
    expect(r).toMatchObject({ ok: false, permanent: false });
    expect(s.received).toHaveLength(0);
  });

  it("refuses to go on without TLS when the URL says requireTLS=true", async () => {
    const s = await server(); // STARTTLS disabled
    const r = await smtp(`${s.url}?requireTLS=true`).deliver(env("a@example.com"), message("a@example.com"));
    expect(r).toMatchObject({ ok: false, permanent: false });
    expect(s.received).toHaveLength(0);
  });

  it("refuses an envelope recipient that is not one bare address", async () => {
    const s = await server();
    const t = smtp(s.url);
    for (const to of ["a@example.com, b@example.com", "A <a@example.com>", "a@example.com\r\nRCPT TO:<b@example.com>"]) {
      const r = await t.deliver(env(to), message("a@example.com"));
      expect(r).toMatchObject({ ok: false, permanent: true });
      expect(r.ok ? "" : r.message).not.toMatch(/[ab]@example\.com/);
    }
    expect(s.received).toHaveLength(0);
  });

  it("prints nothing: nodemailer's logger and debug output stay off", async () => {
    const s = await server({ faults: { permFailFor: (r) => r.startsWith("gone") } });
    const t = smtp(s.url);
    const written: string[] = [];
    const spies = [vi.spyOn(process.stdout, "write"), vi.spyOn(process.stderr, "write")].map((spy) =>
      spy.mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true)),
    );
    const consoles = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...a: unknown[]) => void written.push(a.join(" "))),
    );
    try {
      await t.deliver(env("seen@example.com"), message("seen@example.com"));
      await t.deliver(env("gone@example.com"), message("gone@example.com"));
      await t.close();
    } finally {
      for (const spy of [...spies, ...consoles]) spy.mockRestore();
    }
    expect(written.join("")).toBe("");
  });

  it("answers deliveries after close() with a transient failure, and close() is idempotent", async () => {
    const s = await server();
    const t = smtp(s.url);
    expect((await t.deliver(env("a@example.com"), message("a@example.com"))).ok).toBe(true);
    await Promise.all([t.close(), t.close()]);
    expect(await t.deliver(env("b@example.com"), message("b@example.com"))).toMatchObject({ ok: false, permanent: false });
  });

  it("close() waits for in-flight deliveries", async () => {
    const s = await server();
    const t = smtp(s.url, 2);
    const pending = [1, 2, 3, 4, 5].map((i) => t.deliver(env(`c${i}@example.com`), message(`c${i}@example.com`)));
    await t.close();
    expect(s.received).toHaveLength(5);
    for (const r of await Promise.all(pending)) expect(r.ok).toBe(true);
  });

  it("prints throughput: 2,000 messages of ~5 KB through a 5-connection pool", async () => {
    const s = await server();
    const t = smtp(s.url, 5);
    const body = "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\r\n".repeat(85); // ~5 KB
    const n = 2000;
    const limit = 50; // bounded in-flight, as the send loop does
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < n) {
        const i = next++;
        const to = `user${i}@example.com`;
        const r = await t.deliver(env(to), message(to, { id: `tp${i}`, body }));
        if (!r.ok) throw new Error(r.message);
      }
    };
    await Promise.all(Array.from({ length: limit }, worker));
    const seconds = (performance.now() - started) / 1000;
    console.log(`[transport ${clientName}] ${n} messages of ${message("x@example.com", { body }).length} bytes, 5 connections → smtp-server: ${(n / seconds).toFixed(0)} msg/s (${seconds.toFixed(2)} s)`);
    expect(s.received).toHaveLength(n);
    expect(new Set(s.received.map((m) => m.envelope.to[0])).size).toBe(n);
  });
});

describe("SMTP URL and error mapping", () => {
  it("parses smtp:// and smtps:// with defaults, never keeping credentials in the display name", () => {
    expect(parseSmtpUrl("smtp://relay.example.com")).toMatchObject({ secure: false, port: 587, requireTLS: false, display: "smtp://relay.example.com:587" });
    expect(parseSmtpUrl("smtps://relay.example.com")).toMatchObject({ secure: true, port: 465, display: "smtps://relay.example.com:465" });
    const withAuth = parseSmtpUrl("smtp://user:s3cret%40x@relay.example.com:2525");
    expect(withAuth).toMatchObject({ port: 2525, auth: { user: "user", pass: "s3cret@x" }, requireTLS: true });
    expect(withAuth.display).not.toContain("s3cret");
    expect(parseSmtpUrl("smtp://user:pw@relay.example.com?requireTLS=false").requireTLS).toBe(false);
    expect(parseSmtpUrl("smtp://user:pw@127.0.0.1:25").requireTLS).toBe(false); // loopback
    expect(parseSmtpUrl("smtp://[::1]:2525").display).toBe("smtp://[::1]:2525");
  });

  it("refuses malformed URLs without echoing them", () => {
    for (const bad of ["http://u:topsecret@x.example", "smtp://u:topsecret@x.example?requireTls=true", "smtp://u:topsecret@x.example:99999", "not a url topsecret", "smtp://u:topsecret@x.example/path"]) {
      let err: unknown;
      try {
        parseSmtpUrl(bad, "NEWSLETTER_SMTP_URL");
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toContain("NEWSLETTER_SMTP_URL");
      expect((err as Error).message).not.toContain("topsecret");
    }
  });

  it("maps errors by the table in smtp-result.ts", () => {
    const s = ["x@example.com"];
    const cases: Array<[object, boolean]> = [
      [{ code: "EENVELOPE", responseCode: 550, command: "RCPT TO", message: "550 <x@example.com> no" }, true],
      [{ code: "EMESSAGE", responseCode: 552, command: "DATA", message: "552 too big" }, true],
      [{ code: "EENVELOPE", responseCode: 503, command: "RCPT TO", message: "503 bad sequence" }, false],
      [{ code: "EENVELOPE", responseCode: 450, message: "450 busy" }, false],
      [{ code: "EENVELOPE", responseCode: 421, message: "421 closing" }, false],
      [{ code: "EAUTH", responseCode: 535, message: "535 bad auth" }, false],
      [{ code: "EPROTOCOL", responseCode: 554, message: "554 no service" }, false],
      [{ code: "EENVELOPE", command: "API", message: "Invalid recipient" }, true],
      [{ code: "ESOCKET", originalCode: "ECONNRESET", message: "read ECONNRESET" }, false],
      [{ code: "ECONNECTION", message: "Connection closed" }, false],
      [{ code: "ETIMEDOUT", message: "Greeting never received" }, false],
      [{ code: "ESOCKET", originalCode: "EPIPE", message: "write EPIPE" }, false],
      [new Error("Connection pool was closed"), false],
    ];
    for (const [err, permanent] of cases) {
      const r = failureFromError(err, s);
      expect(r.inDoubt ? "in doubt" : r.permanent, JSON.stringify(err)).toBe(permanent);
      expect(r.message).not.toContain("x@example.com");
    }
    // Once the end of data was written: no reply is in doubt (RFC 5321 §4.1.1.4); a reply keeps its meaning.
    const afterData: Array<[object, "in doubt" | boolean]> = [
      [{ code: "ECONNECTION", command: "DATA", message: "Connection closed", endOfDataSent: true }, "in doubt"],
      [{ code: "ESOCKET", originalCode: "ECONNRESET", command: "DATA", message: "read ECONNRESET <x@example.com>", endOfDataSent: true }, "in doubt"],
      [{ code: "ETIMEDOUT", command: "DATA", message: "Timeout", endOfDataSent: true }, "in doubt"],
      [{ code: "EMESSAGE", responseCode: 451, command: "DATA", message: "451 try later", endOfDataSent: true }, false],
      [{ code: "EMESSAGE", responseCode: 550, command: "DATA", message: "550 no", endOfDataSent: true }, true],
      [{ code: "ECONNECTION", responseCode: 421, command: "CONN", message: "421 closing", endOfDataSent: true }, false],
    ];
    for (const [err, want] of afterData) {
      const r = failureFromError(err, s);
      expect(r.inDoubt ? "in doubt" : r.permanent, JSON.stringify(err)).toBe(want);
      expect(r.message).not.toContain("x@example.com");
    }
    // nodemailer's adapter tells it from outside the error (smtp.ts).
    expect(failureFromError({ code: "ECONNECTION", command: "CONN", message: "Connection closed unexpectedly" }, s, { endOfDataSent: true })).toMatchObject({ ok: false, inDoubt: true });
    expect(failureFromError({ code: "ESOCKET", originalCode: "ECONNREFUSED", message: "connect ECONNREFUSED" }, []).message).toBe(
      "ESOCKET (ECONNREFUSED): connect ECONNREFUSED",
    );
  });
});

describe("outbox transport", () => {
  it("writes one .eml per message, named from the Message-ID, readable by mailparser", async () => {
    const dir = tempDir();
    const t = createOutboxTransport(path.join(dir, "outbox"));
    expect(t.name).toBe(`outbox ${path.join(dir, "outbox")}`);
    const raw = message("taro@example.net", { id: "nl.2026-12-01.abc/123+x" });
    const r = await t.deliver(env("taro@example.net"), raw);
    expect(r).toEqual({ ok: true, response: "nl.2026-12-01.abc_123_x_corp.example.eml" });
    const files = readdirSync(path.join(dir, "outbox"));
    expect(files).toEqual(["nl.2026-12-01.abc_123_x_corp.example.eml"]); // no temp file left behind
    const bytes = readFileSync(path.join(dir, "outbox", files[0]!));
    expect(bytes.equals(raw)).toBe(true); // as given: no X-Envelope-To or any other addition
    const parsed = await simpleParser(bytes);
    expect(parsed.subject).toBe("Winter update");
    expect(parsed.text).toContain("こんにちは");
    await t.close();
  });

  it("never overwrites: the same Message-ID twice gives <stem>-1.eml; no Message-ID gives a counter name", async () => {
    const dir = tempDir();
    const t = createOutboxTransport(dir);
    const a = await t.deliver(env("a@example.com"), message("a@example.com", { id: "same" }));
    const b = await t.deliver(env("a@example.com"), message("a@example.com", { id: "same" }));
    const c = await t.deliver(env("b@example.com"), message("b@example.com", { id: "" }));
    expect(a).toEqual({ ok: true, response: "same_corp.example.eml" });
    expect(b).toEqual({ ok: true, response: "same_corp.example-1.eml" });
    expect(c.ok && c.response).toMatch(/^msg-\d+-1\.eml$/);
    expect(readdirSync(dir).sort()).toHaveLength(3);
    expect(readdirSync(dir).some((f) => f.endsWith(".tmp"))).toBe(false);
  });

  it("writes concurrent deliveries completely, each under its own name", async () => {
    const dir = tempDir();
    const t = createOutboxTransport(dir);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => t.deliver(env(`u${i}@example.com`), message(`u${i}@example.com`, { id: i % 5 === 0 ? "dup" : `id${i}` }))),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const files = readdirSync(dir);
    expect(files).toHaveLength(50);
    for (const f of files) expect((await simpleParser(readFileSync(path.join(dir, f)))).subject).toBe("Winter update");
  });

  it("does not put a recipient's address into a file name", () => {
    const stem = fileStem(Buffer.from("Message-ID: <Taro@Example.net>\r\n\r\n"), "taro@example.net");
    expect(stem).toMatch(/^id-[0-9a-f]{32}$/);
  });

  it("reads folded Message-ID headers and ignores the body", () => {
    expect(messageIdOf(Buffer.from("Subject: a\r\nMessage-ID:\r\n <x.1@corp.example>\r\n\r\nbody"))).toBe("x.1@corp.example");
    expect(messageIdOf(Buffer.from("Subject: a\r\n\r\nMessage-ID: <not@header.example>\r\n"))).toBeUndefined();
    expect(fileStem(Buffer.from("Message-ID: <../../etc/passwd>\r\n\r\n"), "a@example.com")).toBe("etc_passwd");
  });

  it("reports an unwritable folder as a transient failure", async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, "a-file"), "");
    const r = await createOutboxTransport(path.join(dir, "a-file", "sub")).deliver(env("a@example.com"), message("a@example.com"));
    expect(r).toMatchObject({ ok: false, permanent: false });
    expect(r.ok ? "" : r.message).toMatch(/^ENOTDIR|^EEXIST/);
  });
});

describe("createTransportFromEnv", () => {
  const send = "smtp://u:pw-send@send.example.com:587";
  const test = "smtp://u:pw-test@test.example.com:2525";
  const opts = { outboxDir: "outbox", connections: 1 };

  it("picks NEWSLETTER_SMTP_URL for sends, never the test URL", () => {
    expect(chooseTransport({ NEWSLETTER_SMTP_URL: send, NEWSLETTER_TEST_SMTP_URL: test }, "send", "o")).toEqual({ kind: "smtp", variable: "NEWSLETTER_SMTP_URL" });
    expect(chooseTransport({ NEWSLETTER_TEST_SMTP_URL: test }, "send", "o")).toEqual({ kind: "outbox", dir: "o" });
  });

  it("picks NEWSLETTER_TEST_SMTP_URL for approval copies, falling back to NEWSLETTER_SMTP_URL", () => {
    expect(chooseTransport({ NEWSLETTER_SMTP_URL: send, NEWSLETTER_TEST_SMTP_URL: test }, "test", "o")).toEqual({ kind: "smtp", variable: "NEWSLETTER_TEST_SMTP_URL" });
    expect(chooseTransport({ NEWSLETTER_SMTP_URL: send }, "test", "o")).toEqual({ kind: "smtp", variable: "NEWSLETTER_SMTP_URL" });
    expect(chooseTransport({ NEWSLETTER_SMTP_URL: send, NEWSLETTER_TEST_SMTP_URL: "  " }, "test", "o")).toEqual({ kind: "smtp", variable: "NEWSLETTER_SMTP_URL" });
  });

  it("uses the outbox when neither is set (empty counts as unset, as Actions passes missing secrets)", () => {
    expect(chooseTransport({}, "test", "o")).toEqual({ kind: "outbox", dir: "o" });
    expect(chooseTransport({ NEWSLETTER_SMTP_URL: "", NEWSLETTER_TEST_SMTP_URL: "" }, "send", "o")).toEqual({ kind: "outbox", dir: "o" });
  });

  it("builds the chosen transport; names hold no password", async () => {
    const a = createTransportFromEnv({ NEWSLETTER_SMTP_URL: send, NEWSLETTER_TEST_SMTP_URL: test }, "send", opts);
    const b = createTransportFromEnv({ NEWSLETTER_SMTP_URL: send, NEWSLETTER_TEST_SMTP_URL: test }, "test", opts);
    const c = createTransportFromEnv({}, "send", opts);
    expect([a.name, b.name, c.name]).toEqual(["smtp://send.example.com:587", "smtp://test.example.com:2525", "outbox outbox"]);
    for (const t of [a, b, c]) {
      expect(t.name).not.toMatch(/pw-/);
      await t.close();
    }
  });

  it("uses our pipelined client by default and nodemailer's pool (loaded on first use) when NEWSLETTER_SMTP_CLIENT=nodemailer", async () => {
    const s = await server();
    for (const client of [undefined, "pipelined", "nodemailer", " Nodemailer "]) {
      const t = createTransportFromEnv({ NEWSLETTER_SMTP_URL: s.url, ...(client ? { NEWSLETTER_SMTP_CLIENT: client } : {}) }, "send", opts);
      cleanups.push(() => t.close());
      expect(t.name).toBe(`smtp://127.0.0.1:${s.port}`);
      expect((await t.deliver(env("a@example.com"), message("a@example.com"))).ok).toBe(true);
      await t.close();
      expect(await t.deliver(env("a@example.com"), message("a@example.com"))).toMatchObject({ ok: false, permanent: false });
    }
    expect(s.received).toHaveLength(4);
    expect(() => createTransportFromEnv({ NEWSLETTER_SMTP_URL: s.url, NEWSLETTER_SMTP_CLIENT: "other" }, "send", opts)).toThrow(UsageError);
  });

  it("names the variable, not its value, when the URL is malformed", () => {
    expect(() => createTransportFromEnv({ NEWSLETTER_TEST_SMTP_URL: "smtp://u:pw-x@h.example?foo=1" }, "test", opts)).toThrow(/NEWSLETTER_TEST_SMTP_URL/);
    expect(() => createTransportFromEnv({ NEWSLETTER_TEST_SMTP_URL: "smtp://u:pw-x@h.example?foo=1" }, "test", opts)).not.toThrow(/pw-x/);
  });
});

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const addr = srv.address();
  await new Promise<void>((r) => srv.close(() => r()));
  if (addr === null || typeof addr === "string") throw new Error("no port");
  return addr.port;
}
