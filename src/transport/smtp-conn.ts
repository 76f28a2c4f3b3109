/**
 * One SMTP client connection (RFC 5321) for raw message bytes, with
 * PIPELINING (RFC 2920), STARTTLS (RFC 3207), AUTH PLAIN/LOGIN (RFC 4954,
 * RFC 4616), SIZE (RFC 1870) and 8BITMIME (RFC 6152). Used by the pool in
 * smtp-pipelined.ts; one transaction at a time.
 *
 * A transaction, when the server offers PIPELINING (the pool drives it):
 *   write: MAIL FROM, RCPT TO, DATA            (one group, DATA last: RFC 2920 §3.1)
 *   read:  their three replies, in order
 *   write: the message, ".", and the next message's MAIL FROM, RCPT TO,
 *          DATA when one is waiting            (one writev, only after 354;
 *          message content may open a group, RFC 2920 §3.1)
 *   read:  the final reply (then the next envelope's three)
 * so a busy connection costs one write per message. Without PIPELINING
 * each command waits for its reply (send()).
 *
 * Errors are shaped like nodemailer's (code, responseCode, command,
 * originalCode) so smtp-result.ts classifies both clients the same way:
 * EENVELOPE / EMESSAGE for replies about this message, EAUTH, ETLS,
 * EPROTOCOL, ETIMEDOUT for the session, ESOCKET / ECONNECTION when the
 * connection fails. Nothing is ever re-sent here.
 *
 * In doubt (RFC 5321 §4.1.1.4, RFC 1047): once a message's end of data
 * ("<CRLF>.<CRLF>") was written to the socket, only the reply to it tells
 * whether the server took the message. Any failure to read that reply — the
 * connection lost, reset or timed out, a reply that is not one — rejects
 * with `endOfDataSent: true` (smtp-result.ts makes it InDoubt, mail/port.ts).
 * That is the message whose final reply is owed, and only it: a message
 * whose envelope was pipelined behind it but whose data was never written
 * fails as before (transient, retryable).
 */
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { StringDecoder } from "node:string_decoder";
import { dataChunks, ReplyParser, type Reply } from "./smtp-wire.ts";

export interface ConnOptions {
  host: string;
  port: number;
  /** Implicit TLS from the first byte (smtps://). */
  secure: boolean;
  /** Refuse to go on unless STARTTLS succeeds. */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  /** EHLO name; default the local address as an address literal (RFC 5321 §4.1.3). */
  name?: string;
  tls: { rejectUnauthorized: boolean; servername?: string; ca?: string[] };
  timeouts: Timeouts;
}

/**
 * How long each wait may last (docs/design.md, "Sending and relay pushback").
 * RFC 5321 §4.5.3.2 gives the minimums a server-side client should allow
 * (greeting 5 min, MAIL and RCPT 5 min, DATA 2 min, the end of data 10 min);
 * "a client may be stricter", and a newsletter sender that must stop within
 * seconds of a cancel should be: a relay that is this slow is sick.
 */
export interface Timeouts {
  /** TCP (and implicit TLS) connect. */
  connectMs: number;
  /** The 220 greeting. */
  greetingMs: number;
  /** EHLO, STARTTLS and the TLS handshake, AUTH, RSET. */
  sessionMs: number;
  /** The replies to MAIL FROM, RCPT TO and DATA. */
  envelopeMs: number;
  /** The reply to the end of data; past it the message is in doubt, so this one stays generous. */
  finalMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 15_000, greetingMs: 30_000, sessionMs: 30_000, envelopeMs: 60_000, finalMs: 120_000 };

export interface SmtpError extends Error {
  code: string;
  responseCode?: number;
  command?: string;
  originalCode?: string;
  response?: string;
  /** The end of data was written and no final reply was read: the message is in doubt. */
  endOfDataSent?: boolean;
}

export function smtpError(code: string, message: string, extra: { responseCode?: number; command?: string; originalCode?: string; response?: string } = {}): SmtpError {
  const e = new Error(message) as SmtpError;
  e.code = code;
  if (extra.responseCode !== undefined && extra.responseCode > 0) e.responseCode = extra.responseCode;
  if (extra.command !== undefined) e.command = extra.command;
  if (extra.originalCode !== undefined) e.originalCode = extra.originalCode;
  if (extra.response !== undefined) e.response = extra.response;
  return e;
}

interface Waiter {
  resolve(r: Reply): void;
  reject(e: SmtpError): void;
}

export interface Capabilities {
  pipelining: boolean;
  eightBitMime: boolean;
  /** 0: no SIZE extension or no limit given. */
  size: number;
  sizeOffered: boolean;
  auth: Set<string>;
  starttls: boolean;
}

const NO_CAPS: Capabilities = { pipelining: false, eightBitMime: false, size: 0, sizeOffered: false, auth: new Set(), starttls: false };

export class SmtpConnection {
  private socket!: Socket | TLSSocket;
  private decoder = new StringDecoder("utf8");
  private parser = new ReplyParser();
  private readonly ready: Reply[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly completed: Reply[] = [];
  private error: SmtpError | null = null;
  private caps: Capabilities = NO_CAPS;
  /** Messages whose transaction this connection carried (sent or refused). */
  messages = 0;
  /** Messages the server accepted on this connection (a 2yz to their end of data). */
  accepted = 0;
  /** True once the server said it is closing (421) or the socket ended. */
  closing = false;
  /**
   * The server said 421 (RFC 5321 §3.8: it is closing the channel). Nothing more is
   * written on this connection from then on: no RSET, no QUIT, no data.
   */
  private said421 = false;
  /** Messages whose end of data was written and whose final reply has not been read. */
  awaitingFinal = 0;

  private constructor(private readonly opts: ConnOptions) {}

  /** Connects, reads the greeting, EHLO, STARTTLS, EHLO again, AUTH. Rejects with an SmtpError. */
  static async open(opts: ConnOptions): Promise<SmtpConnection> {
    const c = new SmtpConnection(opts);
    try {
      await c.connect();
      await c.handshake();
    } catch (e) {
      c.destroy();
      throw toSmtpError(e);
    }
    return c;
  }

  /** Usable for a new transaction: open, not closing, and no reply nobody asked for (that would put every later reply out of step). */
  get alive(): boolean {
    return this.error === null && !this.closing && this.ready.length === 0;
  }

  get maxSize(): number {
    return this.caps.size;
  }

  private connect(): Promise<void> {
    const o = this.opts;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (e?: SmtpError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (e) reject(e);
        else resolve();
      };
      const timer = setTimeout(() => done(smtpError("ETIMEDOUT", "Connection timeout", { command: "CONN" })), o.timeouts.connectMs);
      const sock = o.secure
        ? tlsConnect({ host: o.host, port: o.port, ...tlsOptions(o) })
        : netConnect({ host: o.host, port: o.port });
      this.attach(sock);
      sock.once(o.secure ? "secureConnect" : "connect", () => done());
      // attach()'s handlers record the error; this one settles the connect.
      sock.once("error", (err: NodeJS.ErrnoException) => done(socketError(err, o.secure)));
      sock.once("close", () => done(this.error ?? smtpError("ECONNECTION", "Connection closed", { command: "CONN" })));
    });
  }

  private attach(sock: Socket | TLSSocket): void {
    this.socket = sock;
    this.decoder = new StringDecoder("utf8");
    sock.setNoDelay(true);
    sock.on("data", this.onData);
    sock.on("error", (err: NodeJS.ErrnoException) => this.fail(socketError(err, sock !== undefined && "encrypted" in sock)));
    sock.on("end", () => this.fail(smtpError("ECONNECTION", "Connection closed unexpectedly", { command: "CONN" })));
    sock.on("close", () => this.fail(smtpError("ECONNECTION", "Connection closed", { command: "CONN" })));
  }

  private detach(sock: Socket | TLSSocket): void {
    sock.removeAllListeners("data");
    sock.removeAllListeners("error");
    sock.removeAllListeners("end");
    sock.removeAllListeners("close");
    sock.removeAllListeners("timeout");
    sock.setTimeout(0);
  }

  private readonly onData = (chunk: Buffer): void => {
    const got = this.completed;
    this.parser.push(this.decoder.write(chunk), got);
    for (let i = 0; i < got.length; i++) {
      const r = got[i]!;
      if (r.code === 421) {
        this.said421 = true;
        this.closing = true;
      }
      const w = this.waiters.shift();
      if (w) w.resolve(r);
      else this.ready.push(r);
    }
    got.length = 0;
  };

  /**
   * The next reply in order, within `ms`. A reply that does not come in time
   * ends the connection (every later reply would be out of step).
   */
  private read(ms: number, what: string): Promise<Reply> {
    const r = this.ready.shift();
    if (r) return Promise.resolve(r);
    if (this.error) return Promise.reject(this.error);
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(smtpError("ETIMEDOUT", `no reply to ${what} within ${ms / 1000} s`, { command: "CONN" })), ms);
      this.waiters.push({
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  private fail(e: SmtpError): void {
    if (this.error === null) this.error = e;
    this.closing = true;
    const ws = this.waiters.splice(0);
    for (const w of ws) w.reject(this.error);
    this.socket?.destroy();
  }

  /** Throws, writing nothing, once the connection failed or the server said 421. */
  private writable(): void {
    if (this.error) throw this.error;
    if (this.said421) throw smtpError("ECONNECTION", "The server is closing the connection (421)", { command: "CONN" });
  }

  private write(s: string): void {
    this.writable();
    this.socket.write(s, "latin1");
  }

  private async command(cmd: string, label: string, ms = this.opts.timeouts.sessionMs): Promise<Reply> {
    this.write(`${cmd}\r\n`);
    return this.read(ms, label).catch((e: unknown) => {
      throw withCommand(e, label);
    });
  }

  private async withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(smtpError("ETIMEDOUT", `${what} never received`, { command: "CONN" })), ms);
    });
    try {
      return await Promise.race([p, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async handshake(): Promise<void> {
    const greeting = await this.read(this.opts.timeouts.greetingMs, "the greeting");
    if (greeting.code !== 220) {
      throw smtpError("EPROTOCOL", `Invalid greeting. response=${greeting.text}`, { responseCode: greeting.code, command: "CONN", response: greeting.text });
    }
    let ehlo = await this.hello();
    const secure = this.opts.secure;
    if (!secure && (ehlo.starttls || this.opts.requireTLS)) {
      const r = await this.command("STARTTLS", "STARTTLS");
      if (r.code !== 220) {
        throw smtpError("ETLS", `Error upgrading connection with STARTTLS: ${r.text}`, { responseCode: r.code, command: "STARTTLS", response: r.text });
      }
      // RFC 3207 §4.2: the client MUST discard what it learnt before TLS. Bytes already here after
      // the 220 were not protected by TLS: read as replies after it, they would answer our EHLO
      // (and every later command one step late). A protocol error: the connection is dropped.
      if (this.ready.length > 0 || this.parser.pending) {
        throw smtpError("EPROTOCOL", "STARTTLS: the server sent bytes after its 220 before TLS began (RFC 3207 §4.2); connection dropped", {
          command: "STARTTLS",
        });
      }
      await this.withTimeout(this.upgrade(), this.opts.timeouts.sessionMs, "TLS handshake");
      ehlo = await this.hello();
    }
    this.caps = ehlo;
    if (this.opts.auth) await this.authenticate(this.opts.auth);
  }

  private async hello(): Promise<Capabilities> {
    const name = this.ehloName();
    const r = await this.command(`EHLO ${name}`, "EHLO");
    if (r.code === 250) return parseEhlo(r.text);
    const h = await this.command(`HELO ${name}`, "HELO");
    if (h.code !== 250) throw smtpError("EPROTOCOL", `Invalid HELO. response=${h.text}`, { responseCode: h.code, command: "HELO", response: h.text });
    return { ...NO_CAPS, auth: new Set() };
  }

  private ehloName(): string {
    if (this.opts.name) return this.opts.name.replace(/[\r\n\s]+/g, "");
    const ip = this.socket.localAddress ?? "127.0.0.1";
    return isIP(ip) === 6 ? `[IPv6:${ip}]` : `[${ip}]`;
  }

  private upgrade(): Promise<void> {
    const plain = this.socket as Socket;
    this.detach(plain);
    // A fresh parser: nothing parsed before TLS carries over.
    this.parser = new ReplyParser();
    this.ready.length = 0;
    const o = this.opts;
    return new Promise<void>((resolve, reject) => {
      const sock = tlsConnect({ socket: plain, ...tlsOptions(o) });
      let settled = false;
      const settle = (e?: SmtpError) => {
        if (settled) return;
        settled = true;
        if (e) reject(e);
        else resolve();
      };
      this.attach(sock);
      sock.once("secureConnect", () => settle());
      sock.once("error", (err: NodeJS.ErrnoException) => settle(socketError(err, true)));
      sock.once("close", () => settle(this.error ?? smtpError("ECONNECTION", "Connection closed during TLS", { command: "STARTTLS" })));
    });
  }

  private async authenticate(auth: { user: string; pass: string }): Promise<void> {
    const mechs = this.caps.auth;
    const useLogin = !mechs.has("PLAIN") && mechs.has("LOGIN");
    const fail = (r: Reply, cmd: string) =>
      smtpError("EAUTH", `Invalid login: ${r.text}`, { responseCode: r.code, command: cmd, response: r.text });
    if (!useLogin) {
      const token = Buffer.from(`\u0000${auth.user}\u0000${auth.pass}`, "utf8").toString("base64");
      const r = await this.command(`AUTH PLAIN ${token}`, "AUTH PLAIN");
      if (r.code !== 235) throw fail(r, "AUTH PLAIN");
      return;
    }
    let r = await this.command("AUTH LOGIN", "AUTH LOGIN");
    if (r.code !== 334) throw fail(r, "AUTH LOGIN");
    r = await this.command(Buffer.from(auth.user, "utf8").toString("base64"), "AUTH LOGIN");
    if (r.code !== 334) throw fail(r, "AUTH LOGIN");
    r = await this.command(Buffer.from(auth.pass, "utf8").toString("base64"), "AUTH LOGIN");
    if (r.code !== 235) throw fail(r, "AUTH LOGIN");
  }

  get pipelining(): boolean {
    return this.caps.pipelining;
  }

  /** RFC 1870 §6.1: a message over the server's limit fails the same way every time (permanent). */
  sizeError(raw: Buffer): SmtpError | null {
    if (this.caps.size > 0 && raw.length > this.caps.size) {
      return smtpError("EMESSAGE", `Message size ${raw.length} exceeds the server's limit ${this.caps.size}`, { command: "API" });
    }
    return null;
  }

  private envelopeCommands(from: string, to: string, raw: Buffer, eightBit: boolean): [string, string] {
    const params = `${eightBit && this.caps.eightBitMime ? " BODY=8BITMIME" : ""}${this.caps.sizeOffered ? ` SIZE=${raw.length}` : ""}`;
    return [`MAIL FROM:<${from}>${params}\r\n`, `RCPT TO:<${to}>\r\n`];
  }

  /**
   * PIPELINING (RFC 2920 §3.1): MAIL FROM, RCPT TO and DATA as one group.
   * `after`: the previous transaction's data and end, written first in the same
   * writev (message content may open a group). Throws when the connection is gone.
   */
  writeEnvelope(from: string, to: string, raw: Buffer, eightBit: boolean, after?: readonly Buffer[]): void {
    this.writable();
    this.messages++;
    const [mail, rcpt] = this.envelopeCommands(from, to, raw, eightBit);
    const cmds = `${mail}${rcpt}DATA\r\n`;
    if (after === undefined) {
      this.socket.write(cmds, "latin1");
      return;
    }
    const sock = this.socket;
    sock.cork();
    for (const c of after) sock.write(c);
    sock.write(cmds, "latin1");
    sock.uncork();
    this.awaitingFinal++;
  }

  /** The data and its end alone (no next envelope to go with it). */
  writeData(chunks: readonly Buffer[]): void {
    this.writable();
    const sock = this.socket;
    this.awaitingFinal++;
    if (chunks.length === 1) {
      sock.write(chunks[0]!);
      return;
    }
    sock.cork();
    for (const c of chunks) sock.write(c);
    sock.uncork();
  }

  /** The replies to a pipelined envelope; resolves on 250, 250/251, 354, else ends the transaction and throws. */
  async readEnvelope(): Promise<void> {
    let mail: Reply;
    let rcpt: Reply;
    let data: Reply;
    const ms = this.opts.timeouts.envelopeMs;
    try {
      mail = await this.read(ms, "MAIL FROM");
      if (mail.code === 421) return this.abandon(mail, "MAIL FROM", false);
      rcpt = await this.read(ms, "RCPT TO");
      if (rcpt.code === 421) return this.abandon(rcpt, "RCPT TO", false);
      data = await this.read(ms, "DATA");
    } catch (e) {
      throw withCommand(e, "MAIL FROM");
    }
    if (mail.code !== 250) return this.abandon(mail, "MAIL FROM", data.code === 354);
    if (!isPositive(rcpt.code)) return this.abandon(rcpt, "RCPT TO", data.code === 354);
    if (data.code !== 354) return this.abandon(data, "DATA", false);
  }

  /**
   * The reply to the end of data, called only once the end of data was written
   * to the socket: its text on 2xx, else throws (EMESSAGE). No reply — the
   * connection lost, reset or timed out (the socket's inactivity timeout), or a
   * line that is not a reply — throws with `endOfDataSent`: in doubt.
   */
  async readFinal(): Promise<string> {
    let final: Reply;
    try {
      final = await this.read(this.opts.timeouts.finalMs, "the end of data");
    } catch (e) {
      throw noFinalReply(e);
    } finally {
      this.awaitingFinal--;
    }
    if (final.code === 0) {
      // Not a reply: what the server did with the message is unknown, and the stream is out of step.
      this.fail(smtpError("EPROTOCOL", "Invalid reply to the end of data", { command: "DATA" }));
      throw noFinalReply(smtpError("EPROTOCOL", `Invalid reply to the end of data: ${final.text}`, { command: "DATA" }));
    }
    if (final.code >= 200 && final.code < 300) {
      this.accepted++;
      return final.text;
    }
    throw smtpError("EMESSAGE", `Message failed: ${final.text}`, { responseCode: final.code, command: "DATA", response: final.text });
  }

  /**
   * One message to one recipient, one command at a time (a server without
   * PIPELINING). Resolves with the final reply's text; rejects with an SmtpError.
   * `from` and `to` are printable ASCII (the pool checks); `eightBit`: octets above 127.
   */
  async send(from: string, to: string, raw: Buffer, eightBit: boolean): Promise<string> {
    const tooBig = this.sizeError(raw);
    if (tooBig) throw tooBig;
    this.messages++;
    const [mailCmd, rcptCmd] = this.envelopeCommands(from, to, raw, eightBit);
    try {
      const ms = this.opts.timeouts.envelopeMs;
      this.write(mailCmd);
      const mail = await this.read(ms, "MAIL FROM");
      if (mail.code !== 250) return await this.abandon(mail, "MAIL FROM", false);
      this.write(rcptCmd);
      const rcpt = await this.read(ms, "RCPT TO");
      if (!isPositive(rcpt.code)) return await this.abandon(rcpt, "RCPT TO", false);
      this.write("DATA\r\n");
      const data = await this.read(ms, "DATA");
      if (data.code !== 354) return await this.abandon(data, "DATA", false);
    } catch (e) {
      throw withCommand(e, "MAIL FROM");
    }
    try {
      this.writeData(dataChunks(raw));
    } catch (e) {
      throw withCommand(e, "DATA");
    }
    return this.readFinal();
  }

  /**
   * A transaction refused before the data: end it (a 354 given anyway gets an empty message
   * ended at once, RFC 2920 §3.1), RSET, and report the refusal.
   */
  private async abandon(r: Reply, command: string, dataAccepted: boolean): Promise<never> {
    const err = smtpError("EENVELOPE", `${command === "RCPT TO" ? "Recipient command failed" : `${command} command failed`}: ${r.text}`, {
      responseCode: r.code,
      command,
      response: r.text,
    });
    if (this.alive) {
      try {
        if (dataAccepted) {
          this.write(".\r\n");
          await this.read(this.opts.timeouts.finalMs, "an empty message");
        }
        const rset = await this.command("RSET", "RSET");
        if (rset.code !== 250) this.closing = true;
      } catch {
        this.closing = true;
      }
    }
    throw err;
  }

  /** QUIT (RFC 5321 §4.1.1.10) and close; never rejects. */
  async quit(): Promise<void> {
    if (this.error === null && !this.said421 && !this.socket.destroyed) {
      try {
        this.closing = true;
        this.write("QUIT\r\n");
        await this.read(1000, "QUIT");
      } catch {
        // closing anyway
      }
    }
    this.destroy();
  }

  destroy(): void {
    this.closing = true;
    if (this.error === null) this.error = smtpError("ECONNECTION", "Connection closed", { command: "CONN" });
    const ws = this.waiters.splice(0);
    for (const w of ws) w.reject(this.error);
    this.socket?.destroy();
  }
}

function isPositive(code: number): boolean {
  return code === 250 || code === 251;
}

function tlsOptions(o: ConnOptions) {
  const name = sni(o);
  return { rejectUnauthorized: o.tls.rejectUnauthorized, ...(name ? { servername: name } : {}), ...(o.tls.ca ? { ca: o.tls.ca } : {}) };
}

function sni(o: ConnOptions): string | undefined {
  if (o.tls.servername) return o.tls.servername;
  return isIP(o.host) === 0 ? o.host : undefined;
}

/** EHLO keywords (RFC 5321 §4.1.1.1), from the lines after the first. */
export function parseEhlo(text: string): Capabilities {
  const caps: Capabilities = { pipelining: false, eightBitMime: false, size: 0, sizeOffered: false, auth: new Set(), starttls: false };
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const words = lines[i]!.slice(4).trim().split(/[\s=]+/);
    const kw = (words[0] ?? "").toUpperCase();
    if (kw === "PIPELINING") caps.pipelining = true;
    else if (kw === "8BITMIME") caps.eightBitMime = true;
    else if (kw === "STARTTLS") caps.starttls = true;
    else if (kw === "SIZE") {
      caps.sizeOffered = true;
      const n = Number(words[1]);
      caps.size = Number.isInteger(n) && n > 0 ? n : 0;
    } else if (kw === "AUTH") for (const m of words.slice(1)) caps.auth.add(m.toUpperCase());
  }
  return caps;
}

function socketError(err: NodeJS.ErrnoException, tls: boolean): SmtpError {
  const code = typeof err.code === "string" ? err.code : undefined;
  const isTls = tls && (code === undefined || /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ERR_/.test(code));
  return smtpError(isTls ? "ETLS" : "ESOCKET", err.message, { command: "CONN", ...(code ? { originalCode: code } : {}) });
}

function toSmtpError(e: unknown): SmtpError {
  if (e instanceof Error && typeof (e as SmtpError).code === "string") return e as SmtpError;
  return smtpError("ECONNECTION", e instanceof Error ? e.message : String(e), { command: "CONN" });
}

/** A fresh error (never the connection's shared one) marked in doubt. */
function noFinalReply(e: unknown): SmtpError {
  const err = toSmtpError(e);
  const out = smtpError(err.code, err.message, {
    command: "DATA",
    ...(err.originalCode ? { originalCode: err.originalCode } : {}),
  });
  out.endOfDataSent = true;
  return out;
}

function withCommand(e: unknown, command: string): SmtpError {
  const err = toSmtpError(e);
  if (err.command === "CONN" && (err.code === "ECONNECTION" || err.code === "ESOCKET" || err.code === "ETIMEDOUT")) {
    return smtpError(err.code, err.message, { command, ...(err.originalCode ? { originalCode: err.originalCode } : {}) });
  }
  return err;
}
