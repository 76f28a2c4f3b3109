/**
 * Our pipelined SMTP client (src/transport/smtp-pipelined.ts, smtp-conn.ts,
 * smtp-wire.ts) beyond the shared transport suite (test/transport.test.ts
 * runs every nodemailer-pool case against it too): DATA transparency equal
 * to nodemailer's DataStream, reply parsing, PIPELINING used only when
 * offered, no message written twice when a connection drops with the
 * next envelope already on the wire, and a lost final reply in doubt for
 * that message only.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
// nodemailer's own DATA encoder, the reference for ours.
import DataStream from "../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js";
import type { Envelope, MailTransport } from "../src/mail/port.ts";
import { createPipelinedSmtpTransport } from "../src/transport/smtp-pipelined.ts";
import { dataChunks, needsTransparency, ReplyParser, type Reply } from "../src/transport/smtp-wire.ts";
import { startTestSmtp, type TestSmtp } from "./helpers/smtp.ts";

const FROM = "news@corp.example";
const env = (to: string): Envelope => ({ from: FROM, to });
const msg = (to: string, body = "Hello\r\n"): Buffer =>
  Buffer.from(`From: <${FROM}>\r\nTo: <${to}>\r\nSubject: x\r\nMessage-ID: <${to.replace("@", ".")}@corp.example>\r\n\r\n${body}`, "utf8");

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function transport(url: string, connections = 1): MailTransport {
  const t = createPipelinedSmtpTransport(url, { connections });
  cleanups.push(() => t.close());
  return t;
}

async function server(opts: Parameters<typeof startTestSmtp>[0] = {}): Promise<TestSmtp> {
  const s = await startTestSmtp(opts);
  cleanups.push(() => s.close());
  return s;
}

function reference(raw: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ds = new DataStream();
    const out: Buffer[] = [];
    ds.on("data", (b: Buffer) => out.push(b));
    ds.on("end", () => resolve(Buffer.concat(out)));
    ds.on("error", reject);
    ds.end(raw);
  });
}

describe("DATA transparency (RFC 5321 §4.5.2)", () => {
  it("equals nodemailer's DataStream on generated messages with dots, bare CR and bare LF", async () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = ["\r\n", "\r", "\n", ".", "..", "a", "bc", " ", "é"];
    for (let k = 0; k < 3000; k++) {
      const parts: string[] = [];
      const n = 1 + rand(30);
      for (let i = 0; i < n; i++) parts.push(alphabet[rand(alphabet.length)]!);
      const raw = Buffer.from(parts.join(""), "utf8");
      const ours = Buffer.concat(dataChunks(raw));
      expect(ours.toString("latin1"), JSON.stringify(parts.join(""))).toBe((await reference(raw)).toString("latin1"));
    }
  });

  it("leaves a CRLF-only message without a line-leading dot as it is: no copy", () => {
    const raw = msg("a@example.com", "line one\r\nline. two\r\n a.b\r\n");
    expect(needsTransparency(raw)).toBe(false);
    const chunks = dataChunks(raw);
    expect(chunks[0]).toBe(raw);
    expect(chunks[1]!.toString("latin1")).toBe(".\r\n");
    expect(needsTransparency(Buffer.from(".x\r\n"))).toBe(true);
    expect(needsTransparency(Buffer.from("x\r\n.\r\n"))).toBe(true);
    expect(needsTransparency(Buffer.from("x\ny\r\n"))).toBe(true);
    expect(needsTransparency(Buffer.from("x\ry\r\n"))).toBe(true);
  });
});

describe("reply parsing (RFC 5321 §4.2)", () => {
  it("joins multiline replies and copes with any chunking", () => {
    const text = "220 ready\r\n250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354 go\r\n250 2.0.0 Ok: queued\r\n";
    for (let cut = 1; cut < 12; cut++) {
      const p = new ReplyParser();
      const out: Reply[] = [];
      for (let i = 0; i < text.length; i += cut) p.push(text.slice(i, i + cut), out);
      expect(out).toEqual([
        { code: 220, text: "220 ready" },
        { code: 250, text: "250-mx.example\n250-PIPELINING\n250 SIZE 1000" },
        { code: 354, text: "354 go" },
        { code: 250, text: "250 2.0.0 Ok: queued" },
      ]);
    }
  });
});

/** A scripted SMTP server on loopback: records what the client sends and when. */
async function scripted(opts: { pipelining: boolean }): Promise<{ port: number; log: string[]; violations: string[] }> {
  const log: string[] = [];
  const violations: string[] = [];
  const srv: Server = createServer((sock: Socket) => {
    let buf = "";
    let inData = false;
    /** Replies owed to commands received but not yet answered (only allowed with PIPELINING). */
    let owed = 0;
    sock.write("220 test ready\r\n");
    const reply = (line: string) => {
      owed--;
      sock.write(`${line}\r\n`);
    };
    sock.on("data", (chunk: Buffer) => {
      buf += chunk.toString("latin1");
      for (;;) {
        if (inData) {
          const end = buf.indexOf("\r\n.\r\n");
          if (end < 0) return;
          log.push(`DATA ${buf.length > 0 ? "body" : ""}`);
          buf = buf.slice(end + 5);
          inData = false;
          owed++;
          reply("250 2.0.0 queued");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        log.push(verb);
        owed++;
        if (owed > 1 && !opts.pipelining) violations.push(`${verb} sent before the previous reply`);
        if (verb === "EHLO") reply(opts.pipelining ? "250-test\r\n250-PIPELINING\r\n250 8BITMIME" : "250-test\r\n250 8BITMIME");
        else if (verb === "MAIL" || verb === "RCPT" || verb === "RSET") {
          // With PIPELINING, hold the MAIL reply until the whole group is in: proves it was sent as one.
          reply("250 ok");
        } else if (verb === "DATA") {
          inData = true;
          reply("354 go on");
        } else if (verb === "QUIT") {
          reply("221 bye");
          sock.end();
        } else reply("502 no");
      }
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
  const a = srv.address();
  if (a === null || typeof a === "string") throw new Error("no port");
  return { port: a.port, log, violations };
}

describe("PIPELINING (RFC 2920)", () => {
  it("without PIPELINING offered, every command waits for its reply", async () => {
    const s = await scripted({ pipelining: false });
    const t = transport(`smtp://127.0.0.1:${s.port}`);
    const rs = await Promise.all([1, 2, 3].map((i) => t.deliver(env(`u${i}@example.com`), msg(`u${i}@example.com`))));
    expect(rs.every((r) => r.ok)).toBe(true);
    await t.close();
    expect(s.violations).toEqual([]);
    expect(s.log.filter((l) => l === "MAIL")).toHaveLength(3);
  });

  it("with PIPELINING, three queued messages go over one connection, in order, each written once", async () => {
    const s = await scripted({ pipelining: true });
    const t = transport(`smtp://127.0.0.1:${s.port}`);
    const rs = await Promise.all([1, 2, 3].map((i) => t.deliver(env(`u${i}@example.com`), msg(`u${i}@example.com`))));
    expect(rs.every((r) => r.ok)).toBe(true);
    await t.close();
    expect(s.log).toEqual(["EHLO", "MAIL", "RCPT", "DATA", "DATA body", "MAIL", "RCPT", "DATA", "DATA body", "MAIL", "RCPT", "DATA", "DATA body", "QUIT"]);
  });

  it("a drop with the next envelope on the wire: the message whose data went out is in doubt, the next (envelope only) moves to a fresh connection; none is written twice", async () => {
    const s = await server({ faults: { dropEvery: 2 } });
    const t = transport(s.url, 1);
    const rs = await Promise.all([1, 2, 3, 4, 5].map((i) => t.deliver(env(`d${i}@example.com`), msg(`d${i}@example.com`))));
    const kinds = rs.map((r) => (r.ok ? "sent" : r.inDoubt ? "in doubt" : "failed"));
    // d1 sent; d2's data went out with d3's envelope, then the drop: d2 in doubt; d3's data was never
    // written, so it moves to a new connection (3rd data: sent) with d4's envelope; d4's data is the
    // 4th: dropped, in doubt; d5 on a third connection: sent.
    expect(kinds).toEqual(["sent", "in doubt", "sent", "in doubt", "sent"]);
    for (const r of rs) if (!r.ok) expect(r.message).toMatch(/ECONNECTION|ESOCKET/);
    const counts = s.countsByRecipient();
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    // Every recipient reported sent arrived; none reported failed arrived (dropped ones were discarded here).
    rs.forEach((r, k) => expect(counts.has(`d${k + 1}@example.com`)).toBe(r.ok));
    expect(s.stats.dropped).toBe(2);
  });

  it("accept then drop with PIPELINING: only the accepted message is in doubt; the pipelined envelope behind it moves to a fresh connection and arrives once", async () => {
    const s = await server({ faults: { acceptThenDropEvery: 3 } });
    const t = transport(s.url, 1);
    const rs = await Promise.all([1, 2, 3, 4, 5].map((i) => t.deliver(env(`p${i}@example.com`), msg(`p${i}@example.com`))));
    const kinds = rs.map((r) => (r.ok ? "sent" : r.inDoubt ? "in doubt" : "failed"));
    // p3's data went out with p4's envelope; the server queued p3 and cut the connection.
    expect(kinds).toEqual(["sent", "sent", "in doubt", "sent", "sent"]);
    expect(s.acceptedThenDropped).toEqual(["p3@example.com"]);
    expect([...s.countsByRecipient().entries()].sort()).toEqual([1, 2, 3, 4, 5].map((i) => [`p${i}@example.com`, 1]));
  });

  it("no final reply within the socket timeout is in doubt; a drop before the data (at RCPT TO) is not", async () => {
    const { SmtpConnection } = await import("../src/transport/smtp-conn.ts");
    const { failureFromError } = await import("../src/transport/smtp-result.ts");
    // A server that takes the data and never answers it.
    const srv: Server = createServer((sock: Socket) => {
      let buf = "";
      let inData = false;
      sock.write("220 ready\r\n");
      sock.on("data", (c: Buffer) => {
        buf += c.toString("latin1");
        for (;;) {
          if (inData) {
            const end = buf.indexOf("\r\n.\r\n");
            if (end < 0) return;
            buf = buf.slice(end + 5);
            inData = false; // and no reply
            continue;
          }
          const nl = buf.indexOf("\r\n");
          if (nl < 0) return;
          const verb = buf.slice(0, 4).toUpperCase();
          buf = buf.slice(nl + 2);
          if (verb === "EHLO") sock.write("250 test\r\n");
          else if (verb === "DATA") {
            inData = true;
            sock.write("354 go\r\n");
          } else sock.write("250 ok\r\n");
        }
      });
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => srv.close(() => r())));
    const a = srv.address();
    if (a === null || typeof a === "string") throw new Error("no port");
    const c = await SmtpConnection.open({
      host: "127.0.0.1", port: a.port, secure: false, requireTLS: false, tls: { rejectUnauthorized: true },
      timeouts: { connectMs: 2000, greetingMs: 2000, sessionMs: 2000, envelopeMs: 2000, finalMs: 300 },
    });
    cleanups.push(() => c.destroy());
    const err = await c.send(FROM, "slow@example.com", msg("slow@example.com"), false).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: "ETIMEDOUT", endOfDataSent: true });
    const r = failureFromError(err, ["slow@example.com"]);
    expect(r).toMatchObject({ ok: false, inDoubt: true });
    expect(r.message).not.toContain("slow@example.com");

    // Dropped at RCPT TO: the data was never written.
    const s = await server({ faults: { dropAtRcptEvery: 1 } });
    const rr = await transport(s.url, 1).deliver(env("early@example.com"), msg("early@example.com"));
    expect(rr).toMatchObject({ ok: false, permanent: false });
    expect(rr.ok ? true : rr.inDoubt === true).toBe(false);
    expect(s.received).toHaveLength(0);
  });

  it("transparency end to end: a line-leading dot and a bare LF arrive as the reader should see them", async () => {
    const s = await server();
    const t = transport(s.url);
    const raw = msg("a@example.com", ".dot first\r\nbare\nlf\r\n..two\r\n");
    expect((await t.deliver(env("a@example.com"), raw)).ok).toBe(true);
    expect(s.received[0]!.raw.toString("utf8")).toBe(msg("a@example.com", ".dot first\r\nbare\r\nlf\r\n..two\r\n").toString("utf8"));
  });

  it("an envelope that is not printable ASCII goes through nodemailer's pool (SMTPUTF8), unchanged", async () => {
    const s = await server();
    const t = transport(s.url);
    const to = "tarō@example.net";
    const r = await t.deliver(env(to), msg(to));
    expect(r.ok).toBe(true);
    expect(s.received[0]?.envelope.to).toEqual([to]);
  });

  it("a recipient refused at RCPT TO with PIPELINING: permanent, the connection goes on", async () => {
    const s = await server({ faults: { permFailFor: (r) => r.startsWith("gone") } });
    const t = transport(s.url, 1);
    const rs = await Promise.all(["a@example.com", "gone@example.com", "b@example.com"].map((to) => t.deliver(env(to), msg(to))));
    expect(rs.map((r) => r.ok)).toEqual([true, false, true]);
    expect(rs[1]).toMatchObject({ ok: false, permanent: true, code: 550 });
    expect(JSON.stringify(rs[1])).not.toContain("gone@example.com");
    expect(s.received.map((m) => m.envelope.to[0])).toEqual(["a@example.com", "b@example.com"]);
  });
});
