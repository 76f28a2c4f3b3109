/**
 * The SMTP sink the send suite delivers into, on loopback only, and the raw
 * SMTP ceiling: Postfix's `smtp-sink` and `smtp-source` (`apt-get install -y
 * postfix`: /usr/sbin, or /usr/lib/postfix/sbin on some systems) when they
 * are installed — nothing is installed at run time — else an smtp-server
 * sink in this process (npm devDependency; it waits 100 ms before
 * each greeting, harmless for pooled clients, and needs
 * `disableReverseLookup`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, connect } from "node:net";
import { userInfo } from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";

const DIRS = ["/usr/sbin", "/usr/lib/postfix/sbin", "/usr/libexec/postfix", "/usr/bin", "/usr/local/sbin"];

/** The absolute path of a Postfix test tool, or null. */
export function postfixTool(name: "smtp-sink" | "smtp-source"): string | null {
  const dirs = [...(process.env.PATH ?? "").split(":").filter(Boolean), ...DIRS];
  for (const d of dirs) {
    const p = path.join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export interface Sink {
  kind: "smtp-sink" | "smtp-server";
  port: number;
  /** Stops what this module started; idempotent. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, then released: another process could take it first, rarely). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * `smtp-sink -u USER 127.0.0.1:PORT 1000`: accepts and discards every
 * message, advertising PIPELINING (RFC 2920) as Postfix does; `-u` is
 * required when running as root (it drops to that user after binding; root
 * keeps it working in containers without a `postfix` user). 1000 is the
 * listen backlog.
 */
async function startSmtpSink(bin: string): Promise<Sink> {
  const port = await freePort();
  const args = [...(process.getuid?.() === 0 ? ["-u", userInfo().username] : []), `127.0.0.1:${port}`, "1000"];
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (!(await listening(port, 5000))) {
    child.kill("SIGTERM");
    throw new Error(`smtp-sink did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    kind: "smtp-sink",
    port,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      })();
      return stopped;
    },
  };
}

async function startSmtpServer(): Promise<Sink> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    disableReverseLookup: true,
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, _session, callback) {
      stream.on("data", () => {});
      stream.on("end", () => callback());
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.server.address();
      resolve(typeof a === "object" && a !== null ? a.port : 0);
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    kind: "smtp-server",
    port,
    stop() {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}

export async function startSink(): Promise<Sink> {
  const bin = postfixTool("smtp-sink");
  return bin ? startSmtpSink(bin) : startSmtpServer();
}
