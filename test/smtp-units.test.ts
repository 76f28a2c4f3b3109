/**
 * The named parts of our pipelined SMTP client, each on its own
 * (src/transport/smtp-jobs.ts, smtp-pushback.ts, smtp-session.ts): the queue,
 * how a connection's pushback is read, how opening connections is paced, and
 * one connection's session against a hand-made connection. The whole client
 * against real servers: test/smtp-pipelined.test.ts, test/transport.test.ts,
 * test/relay-pushback.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { DeliveryResult } from "../src/mail/port.ts";
import { smtpError, type SmtpError } from "../src/transport/smtp-conn.ts";
import { JobQueue, type Job } from "../src/transport/smtp-jobs.ts";
import { connectionPushback, OpenPacing } from "../src/transport/smtp-pushback.ts";
import { runSession, type SessionConnection, type SessionPool } from "../src/transport/smtp-session.ts";

const job = (name: string, size = 10): Job => ({
  envelope: { from: "news@corp.example", to: `${name}@example.com` },
  raw: Buffer.alloc(size, 0x61),
  secrets: [],
  moves: 0,
  resolve: (_r: DeliveryResult) => {},
});
const nameOf = (j: Job) => j.envelope.to.slice(0, j.envelope.to.indexOf("@"));

describe("JobQueue", () => {
  it("first in, first out; a job put back is taken next", () => {
    const q = new JobQueue();
    for (const n of ["a", "b", "c"]) q.push(job(n));
    const a = q.take()!;
    q.putBack(a);
    const b = job("x");
    q.putBack(b); // before anything was taken at this end: still first
    expect(q.size).toBe(4);
    expect(q.drain().map(nameOf)).toEqual(["x", "a", "b", "c"]);
    expect(q.take()).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it("keeps the order across the compaction of its consumed front", () => {
    const q = new JobQueue();
    for (let i = 0; i < 3000; i++) q.push(job(`m${i}`));
    const got: string[] = [];
    for (let i = 0; i < 2000; i++) got.push(nameOf(q.take()!));
    q.putBack(job("back"));
    got.push(...q.drain().map(nameOf));
    expect(got.slice(0, 2000)).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
    expect(got.slice(2000, 2002)).toEqual(["back", "m2000"]);
    expect(got).toHaveLength(3001);
  });
});

describe("connectionPushback: a refusal of a message whose data did not complete", () => {
  const err = (code: string, responseCode?: number, response?: string, extra: Partial<SmtpError> = {}) =>
    Object.assign(smtpError(code, response ?? code, { ...(responseCode ? { responseCode } : {}), ...(response ? { response } : {}) }), extra);
  const cases: Array<[string, unknown, number, ReturnType<typeof connectionPushback>]> = [
    ["421 closing, not throttling", err("EENVELOPE", 421, "421 4.3.2 shutting down"), 0, "moved"],
    ["421 4.7.0 throttling: the caller slows down", err("EENVELOPE", 421, "421 4.7.0 try later"), 3, "none"],
    ["451 with a throttling text", err("EMESSAGE", 451, "451 rate limit exceeded"), 3, "none"],
    ["452 after messages on this connection: its limit", err("EENVELOPE", 452, "452 4.5.3 too many"), 7, "limit"],
    ["452 on a fresh connection: a verdict", err("EENVELOPE", 452, "452 4.5.3 too many"), 0, "none"],
    ["connection lost", err("ECONNECTION"), 0, "moved"],
    ["socket error", err("ESOCKET"), 2, "moved"],
    ["timed out", err("ETIMEDOUT"), 2, "moved"],
    ["protocol error", err("EPROTOCOL"), 2, "moved"],
    ["lost after its end of data: in doubt, never moved", err("ECONNECTION", undefined, undefined, { endOfDataSent: true }), 2, "none"],
    ["credentials refused", err("EAUTH", 535, "535 5.7.8 bad"), 0, "none"],
    ["550 for this recipient", err("EENVELOPE", 550, "550 5.1.1 unknown"), 2, "none"],
    ["a TLS error", err("ETLS"), 0, "none"],
    ["not an object", "boom", 0, "none"],
  ];
  it.each(cases)("%s", (_name, e, accepted, want) => {
    expect(connectionPushback(e, accepted)).toBe(want);
  });
});

describe("OpenPacing", () => {
  const world = () => {
    let now = 1000;
    const p = new OpenPacing(() => now);
    return { p, advance: (ms: number) => (now += ms) };
  };

  it("one open at a time until a connection got through, then as many as the pool allows", () => {
    const { p } = world();
    expect(p.mayOpen(0)).toBe(true);
    expect(p.mayOpen(1)).toBe(false);
    p.opened();
    expect(p.mayOpen(3)).toBe(true);
    const q = world().p;
    q.proved(); // the preflight's connection
    expect(q.mayOpen(1)).toBe(true);
  });

  it("after failed opens the next waits 250 ms, doubling, at most 2 s; a success resets it", () => {
    const { p, advance } = world();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(p.failedToOpen(smtpError("ECONNECTION", "refused"))).toBe("fail");
      waits.push(p.waitMs());
    }
    expect(waits).toEqual([250, 500, 1000, 2000, 2000]);
    advance(2000);
    expect(p.waitMs()).toBe(0);
    p.opened();
    expect(p.waitMs()).toBeLessThanOrEqual(0);
    expect(p.refusal).toBeNull();
  });

  it("credentials refused: once more on a fresh connection, one at a time; twice refuses every message", () => {
    const { p } = world();
    p.opened();
    const auth = smtpError("EAUTH", "Invalid login", { responseCode: 535 });
    expect(p.failedToOpen(auth)).toBe("retry");
    expect(p.mayOpen(1)).toBe(false);
    expect(p.refusal).toBeNull();
    expect(p.failedToOpen(auth)).toBe("fail");
    expect(p.refusal).toBe(auth);
  });

  it("a connection that got through between two refusals starts the count again", () => {
    const { p } = world();
    const auth = smtpError("EAUTH", "Invalid login", { responseCode: 535 });
    expect(p.failedToOpen(auth)).toBe("retry");
    p.opened();
    expect(p.failedToOpen(auth)).toBe("retry");
    expect(p.refusal).toBeNull();
  });
});

/**
 * A hand-made connection: what the session wrote, in order, and the server's
 * answers from `script` (by recipient name). Replies are read in the order the
 * envelopes and data were written, as on a real connection.
 */
interface Script {
  /** The reply to a message's envelope group: an error, or undefined for 250/250/354. */
  envelope?: Record<string, SmtpError>;
  /** The reply to a message's end of data: an error, or undefined for "250 ok <name>". */
  final?: Record<string, SmtpError>;
  /** Names whose size is over the server's limit. */
  tooBig?: string[];
  /** The next writeEnvelope with data behind it throws this (nothing written). */
  writeFails?: SmtpError;
  pipelining?: boolean;
  /** Run when this message's final reply is read (the server closing, say). */
  onFinal?: Record<string, (c: FakeConnection) => void>;
}

type FakeConnection = SessionConnection & { log: string[] };

function fakeConnection(script: Script): FakeConnection {
  const envelopes: string[] = [];
  const finals: string[] = [];
  const c: FakeConnection = {
    log: [],
    get alive() {
      return !c.closing;
    },
    closing: false,
    accepted: 0,
    messages: 0,
    pipelining: script.pipelining ?? true,
    sizeError(raw: Buffer) {
      const name = String.fromCharCode(raw[0]!) === "!" ? raw.toString("latin1", 1) : "";
      return script.tooBig?.includes(name) ? smtpError("EMESSAGE", "too big", { command: "API" }) : null;
    },
    writeEnvelope(_from: string, to: string, _raw: Buffer, _eightBit: boolean, after?: readonly Buffer[]) {
      const name = to.slice(0, to.indexOf("@"));
      if (after && script.writeFails) throw script.writeFails;
      if (after) {
        c.log.push("data");
        finals.push(envelopes.shift()!);
      }
      c.log.push(`envelope ${name}`);
      envelopes.push(name);
      c.messages++;
    },
    writeData() {
      const name = envelopes.shift()!;
      c.log.push(`data`);
      finals.push(name);
    },
    async readEnvelope() {
      const name = envelopes[0]!;
      c.log.push(`read envelope ${name}`);
      const e = script.envelope?.[name];
      if (e) {
        envelopes.shift();
        throw e;
      }
    },
    async readFinal() {
      const name = finals.shift()!;
      c.log.push(`read final ${name}`);
      script.onFinal?.[name]?.(c);
      const e = script.final?.[name];
      if (e) throw e;
      c.accepted++;
      return `250 ok ${name}`;
    },
    async send(_from: string, to: string) {
      const name = to.slice(0, to.indexOf("@"));
      c.log.push(`send ${name}`);
      const e = script.envelope?.[name] ?? script.final?.[name];
      if (e) throw e;
      return `250 ok ${name}`;
    },
  };
  return c;
}

/** A pool that hands out `waiting` in order and records every outcome. */
function fakePool(waiting: Job[]): SessionPool & { outcomes: string[] } {
  const outcomes: string[] = [];
  return {
    outcomes,
    next: (c) => (c.alive ? waiting.shift() : undefined),
    sent: (j, response) => void outcomes.push(`sent ${nameOf(j)} (${response})`),
    failed: (j, err) => void outcomes.push(`failed ${nameOf(j)} ${(err as SmtpError).code}${(err as SmtpError).endOfDataSent ? " in doubt" : ""}`),
    elsewhere: (j, err) => void outcomes.push(`elsewhere ${nameOf(j)} ${(err as SmtpError).code}`),
    limit: (n) => void outcomes.push(`limit ${n}`),
  };
}

const named = (name: string) => {
  const j = job(name);
  j.raw = Buffer.from(`!${name}`, "latin1");
  return j;
};

describe("runSession: one connection's messages", () => {
  const run = async (script: Script, names: string[]) => {
    const c = fakeConnection(script);
    const [first, ...rest] = names.map(named);
    const pool = fakePool(rest);
    await runSession(c, first!, pool);
    return { c, outcomes: pool.outcomes };
  };
  const closed = () => smtpError("ECONNECTION", "Connection closed", { command: "CONN" });

  it("with PIPELINING: each message's data goes out with the next message's envelope, each read once", async () => {
    const { c, outcomes } = await run({}, ["a", "b", "c"]);
    expect(c.log).toEqual([
      "envelope a", "read envelope a",
      "data", "envelope b", "read final a",
      "read envelope b",
      "data", "envelope c", "read final b",
      "read envelope c",
      "data", "read final c",
    ]);
    expect(outcomes).toEqual(["sent a (250 ok a)", "sent b (250 ok b)", "sent c (250 ok c)"]);
  });

  const table: Array<[string, Script, string[], string[]]> = [
    [
      "a 550 to one envelope fails that message only; the connection goes on",
      { envelope: { b: smtpError("EENVELOPE", "550", { responseCode: 550 }) } },
      ["a", "b", "c"],
      ["sent a (250 ok a)", "failed b EENVELOPE", "sent c (250 ok c)"],
    ],
    [
      "a 421 to an envelope moves the message (never failed by this connection)",
      { envelope: { b: smtpError("EENVELOPE", "421 4.3.2 bye", { responseCode: 421, response: "421 4.3.2 bye" }) } },
      ["a", "b"],
      ["sent a (250 ok a)", "elsewhere b EENVELOPE"],
    ],
    [
      "a 452 after an accepted message: the connection's limit, no more on it",
      { envelope: { b: smtpError("EENVELOPE", "452 4.5.3 too many", { responseCode: 452, response: "452 4.5.3 too many" }) } },
      ["a", "b", "c"],
      ["sent a (250 ok a)", "limit 1", "elsewhere b EENVELOPE"],
    ],
    [
      "a 452 as the first message: a verdict on it",
      { envelope: { a: smtpError("EENVELOPE", "452 4.5.3 too many", { responseCode: 452, response: "452 4.5.3 too many" }) } },
      ["a", "b"],
      ["failed a EENVELOPE", "sent b (250 ok b)"],
    ],
    [
      "throttling (451 4.7.1) is the caller's: failed, not moved",
      { final: { a: smtpError("EMESSAGE", "451 4.7.1 slow down", { responseCode: 451, response: "451 4.7.1 slow down" }) } },
      ["a"],
      ["failed a EMESSAGE"],
    ],
    [
      "no final reply after the end of data: in doubt, never moved",
      { final: { a: Object.assign(closed(), { endOfDataSent: true }) } },
      ["a"],
      ["failed a ECONNECTION in doubt"],
    ],
    [
      "nothing could be written for the data: the message and the envelope behind it both move",
      { writeFails: closed() },
      ["a", "b"],
      ["elsewhere a ECONNECTION", "elsewhere b ECONNECTION"],
    ],
    [
      "over the server's SIZE: fails at once, nothing written for it",
      { tooBig: ["a"] },
      ["a", "b"],
      ["failed a EMESSAGE", "sent b (250 ok b)"],
    ],
  ];
  it.each(table)("%s", async (_name, script, names, want) => {
    const { outcomes } = await run(script, names);
    expect(outcomes).toEqual(want);
  });

  it("a 452 limit closes the connection to new messages", async () => {
    const { c } = await run({ envelope: { b: smtpError("EENVELOPE", "452", { responseCode: 452, response: "452 4.5.3" }) } }, ["a", "b", "c"]);
    expect(c.closing).toBe(true);
  });

  it("the server closed while an envelope was pipelined behind: that message moves and nothing more is read or written", async () => {
    const script: Script = {
      onFinal: {
        a: (c) => {
          c.closing = true;
          c.readEnvelope = () => {
            throw new Error("this call must not happen: a reply read after the server closed");
          };
        },
      },
    };
    const { c, outcomes } = await run(script, ["a", "b", "c"]);
    expect(outcomes).toEqual(["sent a (250 ok a)", "elsewhere b ECONNECTION"]);
    expect(c.log.at(-1)).toBe("read final a");
  });

  it("without PIPELINING: one message by send(), its outcome as it is (a 421 is not moved here)", async () => {
    const ok = await run({ pipelining: false }, ["a"]);
    expect(ok.outcomes).toEqual(["sent a (250 ok a)"]);
    expect(ok.c.log).toEqual(["send a"]);
    const refused = await run({ pipelining: false, envelope: { a: smtpError("EENVELOPE", "421", { responseCode: 421, response: "421 4.3.2" }) } }, ["a", "b"]);
    expect(refused.outcomes).toEqual(["failed a EENVELOPE"]);
  });
});
