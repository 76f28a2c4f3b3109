/**
 * An in-process SMTP server for tests (smtp-server), on 127.0.0.1 and a random
 * port, that keeps every accepted message with its envelope, and can inject
 * faults deterministically (seeded PRNG).
 *
 * Faults, in the order they are tried:
 *   at RCPT TO:  dropAtRcptEvery N → the connection is destroyed without a
 *                reply on every Nth RCPT TO: before the DATA, so the client
 *                never wrote the message (a retry delivers it once). With
 *                PIPELINING the previous message's data arrives in the same
 *                write; its 250 may be lost to the reset, leaving it rightly
 *                in doubt for the client;
 *                permFailFor(rcpt) → 550 5.1.1, tempFailFor(rcpt) → 451 4.2.1
 *   after DATA:  dropEvery N → the connection is destroyed without a reply on
 *                every Nth message, the message discarded (not received);
 *                acceptThenDropEvery N → the message is received (accepted,
 *                queued) and the connection destroyed instead of the 250.
 *                On the wire the two are the same: the client wrote the end
 *                of data and got no reply, so both are in doubt for it (RFC
 *                5321 §4.1.1.4) — the first is the in-doubt message that did
 *                not arrive, the second the one that did;
 *                permFailRate → 550 5.7.1; tempFailRate →
 *                421 4.3.2 (and the server closes the connection, RFC 5321
 *                §3.8) or 451 4.3.0, half each.
 * Like real servers, the rejection texts quote the recipient address.
 *
 * smtp-server waits 100 ms before greeting each new connection:
 * fine for pooled clients, misleading for connection-per-message timing.
 */
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";

export interface ReceivedMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  /** The AUTH user of the session, if any. */
  user?: string;
  /** Whether the session was TLS (smtps or after STARTTLS). */
  secure: boolean;
}

export interface Faults {
  /** Probability per message of a 421/451 after DATA. */
  tempFailRate?: number;
  /** Probability per message of a 550 after DATA. */
  permFailRate?: number;
  /** Destroy the connection without a reply on every Nth message (1-based), discarding it. */
  dropEvery?: number;
  /** Receive every Nth message (1-based; counted with dropEvery's) and destroy the connection instead of replying 250. */
  acceptThenDropEvery?: number;
  /** Destroy the connection without a reply on every Nth RCPT TO (1-based), before any data. */
  dropAtRcptEvery?: number;
  permFailFor?: (rcpt: string) => boolean;
  tempFailFor?: (rcpt: string) => boolean;
  /** PRNG seed for the rates; the same seed gives the same faults for the same order. */
  seed?: number;
}

export interface TestSmtpOptions {
  faults?: Faults;
  /** Require SMTP AUTH (PLAIN/LOGIN) with exactly these credentials. */
  auth?: { user: string; pass: string };
  /** "none" (default): plain, STARTTLS disabled; "starttls": offered; "implicit": TLS on connect. */
  tls?: "none" | "starttls" | "implicit";
  /** SIZE limit in bytes (RFC 1870), default 10 MiB. */
  size?: number;
}

export interface FaultStats {
  /** Messages received (including those accepted then dropped). */
  accepted: number;
  dropped: number;
  /** Received, then the connection destroyed instead of the 250 (acceptThenDropEvery). */
  acceptedThenDropped: number;
  /** Connections destroyed at RCPT TO (dropAtRcptEvery). */
  droppedAtRcpt: number;
  tempFailed: number;
  permFailed: number;
  rcptRejected: number;
  authFailed: number;
}

export interface TestSmtp {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** smtp://127.0.0.1:port (smtps:// with tls: "implicit"), without credentials. */
  readonly url: string;
  readonly received: ReceivedMessage[];
  /** The envelope recipients of the messages received and then dropped (acceptThenDropEvery), in order. */
  readonly acceptedThenDropped: string[];
  readonly stats: FaultStats;
  /** Every received message through mailparser's simpleParser, in arrival order. */
  parsed(): Promise<ParsedMail[]>;
  /** Accepted messages per envelope recipient. */
  countsByRecipient(): Map<string, number>;
  close(): Promise<void>;
}

/** mulberry32: small, seedable, good enough to pick faults. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function smtpError(responseCode: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode });
}

export async function startTestSmtp(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
  const faults = opts.faults ?? {};
  const random = prng(faults.seed ?? 1);
  const tls = opts.tls ?? "none";
  const received: ReceivedMessage[] = [];
  const stats: FaultStats = { accepted: 0, dropped: 0, acceptedThenDropped: 0, droppedAtRcpt: 0, tempFailed: 0, permFailed: 0, rcptRejected: 0, authFailed: 0 };
  const acceptedThenDropped: string[] = [];
  let dataCount = 0;
  let rcptCount = 0;

  const options: SMTPServerOptions = {
    logger: false,
    secure: tls === "implicit",
    // The built-in self-signed certificate is fine for loopback tests (clients
    // pass rejectUnauthorized: false); without `logger: false` it warns on stderr.
    disabledCommands: tls === "none" ? ["STARTTLS"] : [],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    disableReverseLookup: true,
    size: opts.size ?? 10 * 1024 * 1024,
    closeTimeout: 1000,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        callback(null, { user: auth.username });
        return;
      }
      stats.authFailed++;
      callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
    },
    onRcptTo(address, session, callback) {
      const rcpt = address.address;
      rcptCount++;
      if (faults.dropAtRcptEvery && rcptCount % faults.dropAtRcptEvery === 0) {
        stats.droppedAtRcpt++;
        connectionOf(session)?._socket.destroy();
        return;
      }
      if (faults.permFailFor?.(rcpt)) {
        stats.rcptRejected++;
        callback(smtpError(550, `5.1.1 <${rcpt}>: Recipient address rejected: User unknown`));
        return;
      }
      if (faults.tempFailFor?.(rcpt)) {
        stats.rcptRejected++;
        callback(smtpError(451, `4.2.1 <${rcpt}>: Mailbox temporarily unavailable`));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => decide(session, Buffer.concat(chunks), stream.sizeExceeded === true, callback));
    },
  };

  function decide(
    session: SMTPServerSession,
    raw: Buffer,
    oversized: boolean,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const to = session.envelope.rcptTo.map((a) => a.address);
    const first = to[0] ?? "";
    if (oversized) {
      callback(); // smtp-server itself replies 552 for an oversized message
      return;
    }
    dataCount++;
    if (faults.dropEvery && dataCount % faults.dropEvery === 0) {
      stats.dropped++;
      connectionOf(session)?._socket.destroy();
      return;
    }
    if (faults.acceptThenDropEvery && dataCount % faults.acceptThenDropEvery === 0) {
      record(session, to, raw);
      stats.acceptedThenDropped++;
      acceptedThenDropped.push(first);
      connectionOf(session)?._socket.destroy();
      return;
    }
    if (faults.permFailRate && random() < faults.permFailRate) {
      stats.permFailed++;
      callback(smtpError(550, `5.7.1 Message for <${first}> rejected by policy`));
      return;
    }
    if (faults.tempFailRate && random() < faults.tempFailRate) {
      stats.tempFailed++;
      if (random() < 0.5) {
        callback(smtpError(421, `4.3.2 Service shutting down, try <${first}> later`));
        const conn = connectionOf(session);
        setImmediate(() => conn?._socket.end());
      } else {
        callback(smtpError(451, `4.3.0 Temporary failure for <${first}>`));
      }
      return;
    }
    record(session, to, raw);
    callback(null, "2.0.0 OK: queued");
  }

  function record(session: SMTPServerSession, to: string[], raw: Buffer): void {
    const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : "";
    const user = typeof session.user === "string" ? session.user : undefined;
    received.push({ envelope: { from, to }, raw, ...(user ? { user } : {}), secure: session.secure });
    stats.accepted++;
  }

  const server = new SMTPServer(options);
  server.on("error", () => {}); // client resets are expected in fault tests
  const connectionOf = (session: SMTPServerSession) => [...server.connections].find((c) => c.id === session.id);

  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("test SMTP server has no TCP address");
  const port = address.port;

  return {
    host: "127.0.0.1",
    port,
    url: `${tls === "implicit" ? "smtps" : "smtp"}://127.0.0.1:${port}`,
    received,
    acceptedThenDropped,
    stats,
    parsed: () => Promise.all(received.map((m) => simpleParser(m.raw))),
    countsByRecipient() {
      const counts = new Map<string, number>();
      for (const m of received) for (const r of m.envelope.to) counts.set(r, (counts.get(r) ?? 0) + 1);
      return counts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.connections) c._socket.destroy();
        server.close(() => resolve());
      }),
  };
}
