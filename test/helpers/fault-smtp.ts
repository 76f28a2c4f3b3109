/**
 * A fault-injecting SMTP peer on `net` (and `tls` for STARTTLS), for the
 * pushback a real relay gives: per-connection limits, 421 at the end of data
 * with or without lingering, a close after a 250, busy greetings, slow
 * greetings and replies, a connection lost before the final reply, a
 * throttling window (N messages per window, as Postfix's anvil or SES do),
 * AUTH with a wrong password, and bytes injected after "220 Ready to start
 * TLS" (RFC 3207 §4.2). Hand-written rather than smtp-server because these
 * faults sit between the protocol steps smtp-server hides.
 *
 * Speaks EHLO (PIPELINING, 8BITMIME, SIZE, ENHANCEDSTATUSCODES, STARTTLS
 * and AUTH PLAIN when configured), MAIL, RCPT, DATA, RSET, NOOP, QUIT;
 * replies strictly in order, one at a time, so pipelined commands are
 * answered as a real server does. A message counts as delivered once its
 * data is complete and the server did not refuse it (a drop after the data
 * counts it: the server queued it, the client saw no reply).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "tls");
/** The CA file the send must trust for this peer's certificate (NEWSLETTER_SMTP_CA_FILE). */
export const PEER_CA_FILE = path.join(TLS_DIR, "relay.crt");

export interface PeerFaults {
  /** After this many messages on one connection, "452 4.5.3" to every RCPT TO on it. */
  rcptLimitPerConnection?: number;
  /** The message after this many on one connection gets "421 4.3.2" to its end of data (not kept). */
  eod421After?: number;
  /** With eod421After: keep answering commands this long after the 421 (data is read and dropped, no reply), then close. */
  lingerMs?: number;
  /** Close the connection (no 421) right after the 250 to this many messages on it. */
  closeAfter250?: number;
  /** The first N connections get "421 4.3.2 busy" as the greeting, then a close. */
  busyGreetings?: number;
  greetingDelayMs?: number;
  /** Before every reply after the greeting. */
  replyDelayMs?: number;
  /** Every Nth message overall (1-based) is kept and the connection destroyed instead of the 250. */
  dropBeforeFinalEvery?: number;
  /** At most `max` messages per `windowMs` (all connections); past it, `reply` to RCPT TO (or at the end of data with `at: "data"`). */
  throttle?: { max: number; windowMs: number; reply: string; at?: "rcpt" | "data" };
  /** Require AUTH PLAIN with these credentials (535 5.7.8 otherwise). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS (the fixture certificate). */
  starttls?: boolean;
  /** Bytes written right after "220 Ready to start TLS", in the same write; only on these connection numbers (1-based), default all. */
  inject?: { bytes: string; connections?: number[] };
  /** Never answer the end of data (the message is not kept). */
  withholdFinal?: boolean;
}

export interface PeerStats {
  connections: number;
  authAttempts: number;
  authFailures: number;
  throttled: number;
  /** Message data received on a connection after this peer said 421 on it (none expected). */
  dataAfter421: number;
}

export interface FaultPeer {
  readonly port: number;
  readonly url: string;
  /** Envelope recipients of the kept messages, in order. */
  readonly delivered: string[];
  readonly stats: PeerStats;
  /** Resolves when the first end of data arrived (for the signal test). */
  readonly firstData: Promise<void>;
  counts(): Map<string, number>;
  close(): Promise<void>;
}

const key = () => readFileSync(path.join(TLS_DIR, "relay.key"));
const cert = () => readFileSync(PEER_CA_FILE);

export async function startFaultPeer(f: PeerFaults = {}): Promise<FaultPeer> {
  const delivered: string[] = [];
  const stats: PeerStats = { connections: 0, authAttempts: 0, authFailures: 0, throttled: 0, dataAfter421: 0 };
  const sockets = new Set<Socket>();
  const windowTimes: number[] = [];
  let messagesOverall = 0;
  let dataSeen!: () => void;
  const firstData = new Promise<void>((r) => (dataSeen = r));

  const throttled = (): boolean => {
    if (!f.throttle) return false;
    const now = Date.now();
    while (windowTimes.length > 0 && now - windowTimes[0]! >= f.throttle.windowMs) windowTimes.shift();
    return windowTimes.length >= f.throttle.max;
  };

  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on("close", () => sockets.delete(raw));
    raw.on("error", () => {});
    const n = ++stats.connections;
    let sock: Socket = raw;
    let buf = Buffer.alloc(0);
    let mode: "cmd" | "data" = "cmd";
    let busy = false;
    let closed = false;
    let said421 = false;
    let stalled = false;
    let secure = false;
    let authed = false;
    let perConn = 0;
    let rcpt: string | null = null;
    let from: string | null = null;

    const sleep = (ms: number | undefined) => (ms ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
    const send = async (line: string) => {
      await sleep(f.replyDelayMs);
      if (!closed) sock.write(`${line}\r\n`);
    };
    const end = () => {
      closed = true;
      sock.destroy();
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      void pump();
    };
    sock.on("data", onData);

    function next(): { line: string } | { data: Buffer } | null {
      if (mode === "data") {
        if (buf.subarray(0, 3).toString("latin1") === ".\r\n") {
          buf = buf.subarray(3);
          return { data: Buffer.alloc(0) };
        }
        const i = buf.indexOf("\r\n.\r\n");
        if (i < 0) return null;
        const data = buf.subarray(0, i + 2);
        buf = buf.subarray(i + 5);
        return { data };
      }
      const i = buf.indexOf("\r\n");
      if (i < 0) return null;
      const line = buf.subarray(0, i).toString("latin1");
      buf = buf.subarray(i + 2);
      return { line };
    }

    async function pump(): Promise<void> {
      if (busy) return;
      busy = true;
      try {
        for (let item = next(); item && !closed && !stalled; item = next()) {
          if ("data" in item) await onMessage();
          else await onLine(item.line);
        }
      } finally {
        busy = false;
      }
    }

    async function onMessage(): Promise<void> {
      mode = "cmd";
      dataSeen();
      const to = rcpt!;
      rcpt = null;
      from = null;
      if (said421) {
        // Lingering: the data is read and dropped with the connection, no reply.
        stats.dataAfter421++;
        return;
      }
      perConn++;
      if (f.withholdFinal) {
        stalled = true; // reads on, answers nothing more
        return;
      }
      if (f.eod421After !== undefined && perConn > f.eod421After) {
        said421 = true;
        await send("421 4.3.2 Too many messages on this connection, closing");
        if (f.lingerMs) setTimeout(end, f.lingerMs);
        else end();
        return;
      }
      if (f.throttle?.at === "data" && throttled()) {
        stats.throttled++;
        perConn--;
        await send(f.throttle.reply);
        if (f.throttle.reply.startsWith("421")) end();
        return;
      }
      messagesOverall++;
      windowTimes.push(Date.now());
      delivered.push(to);
      if (f.dropBeforeFinalEvery && messagesOverall % f.dropBeforeFinalEvery === 0) return end();
      await send(`250 2.0.0 Ok: queued as M${messagesOverall}`);
      if (f.closeAfter250 !== undefined && perConn >= f.closeAfter250) end();
    }

    async function onLine(line: string): Promise<void> {
      const verb = line.split(" ", 1)[0]!.toUpperCase();
      if (said421) {
        // Lingering after a 421: answers as if all were well, keeps nothing.
        if (verb === "DATA") {
          mode = "data";
          rcpt = "discarded";
          return send("354 go ahead");
        }
        return send("250 2.0.0 Ok");
      }
      switch (verb) {
        case "EHLO":
        case "HELO":
          return send(ehlo(verb));
        case "STARTTLS":
          return startTls();
        case "AUTH":
          return authenticate(line);
        case "MAIL":
          if (f.auth && !authed) return send("530 5.7.0 Authentication required");
          from = line;
          return send("250 2.1.0 Ok");
        case "RCPT":
          return onRcpt(line);
        case "DATA":
          if (!from || !rcpt) return send("554 5.5.1 No valid recipients");
          mode = "data";
          return send("354 End data with <CR><LF>.<CR><LF>");
        case "RSET":
          from = null;
          rcpt = null;
          return send("250 2.0.0 Ok");
        case "NOOP":
          return send("250 2.0.0 Ok");
        case "QUIT":
          await send("221 2.0.0 Bye");
          return end();
        default:
          return send("502 5.5.2 Error: command not recognized");
      }
    }

    async function onRcpt(line: string): Promise<void> {
      const to = /<([^>]*)>/.exec(line)?.[1] ?? "";
      if (!from) return send("503 5.5.1 Error: need MAIL command");
      if (f.rcptLimitPerConnection !== undefined && perConn >= f.rcptLimitPerConnection) {
        return send(`452 4.5.3 <${to}>: Too many messages on this connection`);
      }
      if ((f.throttle?.at ?? "rcpt") === "rcpt" && throttled()) {
        stats.throttled++;
        await send(f.throttle!.reply.replace("{rcpt}", to));
        if (f.throttle!.reply.startsWith("421")) end();
        return;
      }
      rcpt = to;
      return send("250 2.1.5 Ok");
    }

    function ehlo(verb: string): string {
      if (verb === "HELO") return "250 fault-peer.test";
      const lines = ["fault-peer.test", "PIPELINING", "8BITMIME", "SIZE 10485760", "ENHANCEDSTATUSCODES"];
      if (f.starttls && !secure) lines.push("STARTTLS");
      if (f.auth) lines.push("AUTH PLAIN");
      return lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}`).join("\r\n");
    }

    async function startTls(): Promise<void> {
      if (!f.starttls || secure) return send("502 5.5.1 STARTTLS not available");
      await sleep(f.replyDelayMs);
      const inject = f.inject && (!f.inject.connections || f.inject.connections.includes(n)) ? f.inject.bytes : "";
      sock.write(`220 2.0.0 Ready to start TLS\r\n${inject}`);
      sock.off("data", onData);
      buf = Buffer.alloc(0);
      const t = new TLSSocket(sock, { isServer: true, key: key(), cert: cert() });
      t.on("error", () => end());
      t.on("data", onData);
      sock = t;
      secure = true;
      from = null;
      rcpt = null;
    }

    async function authenticate(line: string): Promise<void> {
      const [, mech, token] = line.split(" ");
      if (!f.auth || (mech ?? "").toUpperCase() !== "PLAIN" || !token) return send("504 5.5.4 Unrecognized authentication type");
      stats.authAttempts++;
      const [, user, pass] = Buffer.from(token, "base64").toString("utf8").split("\u0000");
      if (user === f.auth.user && pass === f.auth.pass) {
        authed = true;
        return send("235 2.7.0 Authentication successful");
      }
      stats.authFailures++;
      return send("535 5.7.8 Error: authentication failed");
    }

    void (async () => {
      await sleep(f.greetingDelayMs);
      if (closed) return;
      if (f.busyGreetings !== undefined && n <= f.busyGreetings) {
        sock.write("421 4.3.2 Service busy, try again later\r\n");
        return end();
      }
      sock.write("220 fault-peer.test ESMTP\r\n");
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    delivered,
    stats,
    firstData,
    counts() {
      const m = new Map<string, number>();
      for (const to of delivered) m.set(to, (m.get(to) ?? 0) + 1);
      return m;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
