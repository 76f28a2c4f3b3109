/**
 * `unsubscribe-server --port N [--host ADDR]`: the RFC 8058 one-click
 * endpoint (docs/design.md, "Recipient data and suppressions"). Serves the
 * path of `sender.unsubscribe.url` only; a proxy may terminate TLS in front.
 * Each genuine one-click POST appends the token's fingerprint to the
 * suppression store, and is answered only once the entry is stored. The
 * decisions are in unsubscribe/endpoint.ts; this is the HTTP adapter.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { readdirSync } from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { RefusedError } from "../../errors.ts";
import { keyId } from "../../ledger/ledger.ts";
import { parseMailbox } from "../../load/mailbox.ts";
import type { ResolvedConfig } from "../../load/schema/config.ts";
import { resolveSecret } from "../../keys/secret.ts";
import { decide, type EndpointConfig } from "../../unsubscribe/endpoint.ts";
import { unsubscribeRoute } from "../../unsubscribe/route.ts";
import type { SuppressionStore } from "../../suppress/store.ts";
import type { CliInput } from "../args.ts";
import type { Io } from "../../runtime/io.ts";
import { loadConfig, suppressionStore } from "../../wiring/deps.ts";

/** A one-click body is 26 bytes; a form with a few fields is well under this. */
const MAX_BODY = 8 * 1024;

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startUnsubscribeServer(root: string, io: Io, port: number, host = "127.0.0.1"): Promise<RunningServer> {
  const config = loadConfig(root);
  const url = config.sender.unsubscribe?.url;
  if (!url) throw new RefusedError("sender.unsubscribe.url is not set in .github/newsletter.yml: there is nothing to serve");
  const { secret } = resolveSecret(io.env, true);
  const endpoint: EndpointConfig = { match: unsubscribeRoute(url), secret, listIds: listIds(config, root) };
  const store = suppressionStore(config, root, io);
  const kid = keyId(secret);
  // Fingerprints stored since start: a client that repeats its POST adds no further object.
  const recorded = new Set<string>();
  const server = createServer((req, res) => {
    handle(req, res, { endpoint, store, kid, recorded }, io).catch((e: unknown) => {
      io.err(`unsubscribe-server: ${(e as Error).message}\n`);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Tokens are made for the List-Id (send/plan.ts): sender.list_id when set,
 * else `<newsletter id>.<From domain>`, one per newsletter folder present at start.
 */
function listIds(config: ResolvedConfig, root: string): string[] {
  if (config.sender.list_id) return [config.sender.list_id];
  const from = parseMailbox(config.sender.from);
  const domain = from.ok ? from.normalised.slice(from.normalised.lastIndexOf("@") + 1) : "";
  let ids: string[] = [];
  try {
    ids = readdirSync(path.join(root, "newsletters"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    ids = [];
  }
  return ids.map((id) => `${id}.${domain}`);
}

interface Served {
  endpoint: EndpointConfig;
  store: SuppressionStore;
  kid: string;
  recorded: Set<string>;
}

async function handle(req: IncomingMessage, res: ServerResponse, { endpoint, store, kid, recorded }: Served, io: Io): Promise<void> {
  const url = new URL(req.url ?? "/", "http://unsubscribe.invalid");
  let form: URLSearchParams | null = null;
  if (req.method === "POST") {
    const body = await readBody(req);
    if (body === null) {
      res.writeHead(413, { "content-type": "text/plain" }).end("too large\n");
      return;
    }
    form = parseForm(req.headers["content-type"] ?? "", body);
  }
  const out = decide(endpoint, {
    method: req.method ?? "GET",
    pathname: url.pathname,
    query: url.searchParams,
    form,
    acceptLanguage: req.headers["accept-language"],
  });
  if (out.record && !recorded.has(out.record)) {
    try {
      await store.append([{ v: 1, at: new Date().toISOString(), reason: "unsubscribe", fp: out.record, key_id: kid, via: "one-click" }]);
      recorded.add(out.record);
    } catch (e) {
      // Not stored → not "done": the mail client (or the person) will try again.
      io.err(`unsubscribe-server: cannot record an unsubscribe: ${(e as Error).message}\n`);
      res.writeHead(503, { "content-type": "text/plain", "retry-after": "60" }).end("try again later\n");
      return;
    }
  }
  // Fingerprint prefixes only: the server never knows an address, and the log needs none.
  io.err(`unsubscribe-server: ${req.method} ${url.pathname} ${out.status}${out.record ? ` recorded ${out.record.slice(0, 8)}…` : ""}\n`);
  res.writeHead(out.status, out.headers);
  res.end(req.method === "HEAD" ? undefined : out.body);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** RFC 8058 §3.2: the one-click body comes as application/x-www-form-urlencoded or multipart/form-data. */
function parseForm(contentType: string, body: string): URLSearchParams {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\/form-data/i.test(contentType) && boundary) {
    const form = new URLSearchParams();
    for (const part of body.split(`--${boundary}`)) {
      const m = /name="([^"]+)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n?$/.exec(part);
      if (m) form.append(m[1]!, m[2]!);
    }
    return form;
  }
  return new URLSearchParams(body);
}

export async function runUnsubscribeServerCommand(input: Extract<CliInput, { command: "unsubscribe-server" }>, io: Io): Promise<number> {
  const server = await startUnsubscribeServer(input.root, io, input.port, input.host);
  io.err(`unsubscribe-server: listening on ${input.host}:${server.port}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.close();
  return 0;
}
