/**
 * Compose threads: the send loop's other core. Composing and guarding a
 * message is pure CPU and as costly as handing it to the SMTP
 * pool (nodemailer, socket writes), so on a machine with a second core they
 * run there (build-worker.ts) while this thread keeps the connections, the
 * ledger and the list. The guard still scans every message's final bytes —
 * in the thread that composed them, just before they are handed back — and
 * the loop hands over exactly those bytes (transferred, never copied or
 * changed), so "The per-message guard" (docs/design.md) holds as on one thread.
 *
 * A thread runs what the main thread runs: the bundled worker when the
 * launcher started the bundle (bin/bundle.js puts its location under
 * BUNDLE_KEY), else build-worker.ts through tsx's loader.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { FindingsError, InternalError } from "../errors.ts";
import type { BuildRequest, BuildRequestItem, BuildResponse } from "./build-worker.ts";
import type { BuiltGroup, Checked, SendItem } from "./pipeline.ts";
import type { PlanInput } from "./plan.ts";

/** Below this many recipients a thread's start costs more than it saves. */
export const MIN_RECIPIENTS_FOR_THREADS = 5_000;

/**
 * How many compose threads: NEWSLETTER_COMPOSE_THREADS (0–16), else "auto":
 * one when there is a second core and enough recipients: the loop's socket
 * writes and the thread's composing and guarding overlap. (Under tsx a
 * thread's start ate the gain; the bundle's thread starts fast.) Its heap
 * adds some memory. Figures: bench/README.md, "Figures behind the code".
 */
export function composeThreads(env: Readonly<Record<string, string | undefined>>, recipients: number): number {
  const set = env.NEWSLETTER_COMPOSE_THREADS?.trim() || "auto";
  if (set === "auto") return availableParallelism() > 1 && recipients >= MIN_RECIPIENTS_FOR_THREADS ? 1 : 0;
  const n = Number(set);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : 0;
}

const BOOT = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx)
  .then((tsx) => { (tsx.register ?? tsx.default.register)(); return import(workerData.entry); })
  .catch((e) => { setImmediate(() => { throw e; }); });
`;

/** Set by bin/bundle.js when the pre-built bundle runs: the compose thread's bundled file. */
const BUNDLE_KEY = Symbol.for("gitops-newsletter.bundle");

function bundledWorker(): string | null {
  const b = (globalThis as Record<symbol, unknown>)[BUNDLE_KEY] as { worker?: unknown } | undefined;
  return typeof b?.worker === "string" ? b.worker : null;
}

/** tsx's ESM API (`register()`), as a file URL: its `import` export, not the CommonJS one `require.resolve` finds. */
function tsxApiUrl(): string {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (typeof resolve === "function") return resolve("tsx/esm/api");
  const pkgFile = createRequire(import.meta.url).resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgFile, "utf8")) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(pkgFile), pkg.exports["./esm/api"]!.import.default)).href;
}

interface Pending {
  resolve(g: BuiltGroup): void;
  reject(e: Error): void;
  items: readonly SendItem[];
}

export class BuildPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private turn = 0;
  private dead: Error | null = null;

  /** Starts `threads` compose threads for one plan (the same inputs give the same bytes). */
  constructor(plan: PlanInput, threads: number) {
    const bundled = bundledWorker();
    const boot = bundled === null ? { tsx: tsxApiUrl(), entry: new URL("./build-worker.ts", import.meta.url).href } : null;
    this.workers = Array.from({ length: threads }, () => {
      const w = boot === null
        ? new Worker(new URL(bundled!), { workerData: { plan } })
        : new Worker(BOOT, { eval: true, workerData: { ...boot, plan } });
      w.on("message", (res: BuildResponse) => this.receive(res));
      w.on("error", (e) => this.fail(new InternalError(`a compose thread failed: ${e.name}: ${e.message}`, { cause: e })));
      w.on("exit", (code) => {
        if (code !== 0) this.fail(new InternalError(`a compose thread exited with code ${code}`));
      });
      return w;
    });
  }

  /** Composes and guards a group on the next thread; the loop's PipelineDeps.buildGroup. */
  build = (group: readonly SendItem[]): Promise<BuiltGroup> => {
    if (this.dead) return Promise.reject(this.dead);
    const items: BuildRequestItem[] = group.map((g) => {
      if (!g.recipient) throw new InternalError("a compose thread needs the recipient and its row");
      return { address: g.recipient.address, row: g.recipient.row, fp: g.fp };
    });
    const id = this.nextId++;
    const req: BuildRequest = { id, items };
    return new Promise<BuiltGroup>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, items: group });
      this.workers[this.turn++ % this.workers.length]!.postMessage(req);
    });
  };

  async close(): Promise<void> {
    this.fail(new InternalError("the compose threads were closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private receive(res: BuildResponse): void {
    const p = this.pending.get(res.id);
    if (!p) return;
    this.pending.delete(res.id);
    try {
      this.settle(p, res);
    } catch (e) {
      p.reject(e instanceof Error ? e : new InternalError(String(e)));
    }
  }

  private settle(p: Pending, res: BuildResponse): void {
    if (!res.ok) {
      // The error classes a composition can raise keep their exit codes.
      const E = res.error.name === "FindingsError" ? FindingsError : InternalError;
      p.reject(new E(res.error.message));
      return;
    }
    const messages: Checked[] = [];
    for (let i = 0; i < res.messages.length; i++) {
      const m = res.messages[i]!;
      if (!m.verdict.ok) return p.resolve({ messages, violation: m.verdict });
      const raw = Buffer.from(res.bytes, m.offset, m.length);
      // The envelope the guard checked, for the recipient asked for (docs/design.md, "One recipient per message").
      if (m.envelope.to !== p.items[i]!.recipient!.address) throw new InternalError("a compose thread answered for another recipient");
      messages.push({ envelope: m.envelope, raw, messageId: m.messageId });
    }
    p.resolve({ messages });
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
