/**
 * A compose thread (build-pool.ts): makes its own Plan from the same inputs
 * (compileBody and the composer are deterministic, so its messages are the
 * main thread's byte for byte), then for each recipient of a request
 * composes the message and runs the per-message guard (docs/design.md,
 * "The per-message guard") on exactly those bytes, which it hands back byte for byte (one buffer
 * per group, transferred). It stops at the first refused message: nothing after it is
 * composed, as in the loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { guardMessage } from "../guard/guard.ts";
import type { GuardVerdict } from "../guard/port.ts";
import type { Envelope } from "../mail/port.ts";
import { makePlan, type PlanInput } from "./plan.ts";

export interface BuildRequestItem {
  address: string;
  row: Readonly<Record<string, string>>;
  fp: string;
}

export interface BuildRequest {
  id: number;
  items: BuildRequestItem[];
}

export interface BuiltMessage {
  /** Where the message's bytes are in the response's `bytes`. */
  offset: number;
  length: number;
  envelope: Envelope;
  messageId: string;
  verdict: GuardVerdict;
}

export type BuildResponse =
  | { id: number; ok: true; bytes: ArrayBuffer; messages: BuiltMessage[] }
  | { id: number; ok: false; error: { name: string; message: string } };

const port = parentPort;
if (port === null) throw new Error("build-worker.ts runs as a worker thread only");
const plan = makePlan(workerData.plan as PlanInput);

/**
 * The group's messages go back in one buffer of their own, transferred (not
 * copied again): one allocation and one transfer per group rather than per
 * message, which was a measurable share of both threads' time. Each message
 * is copied once, from the composer's slab (whose other bytes must not go
 * along), exactly as guarded.
 */
port.on("message", (req: BuildRequest) => {
  const messages: BuiltMessage[] = [];
  const raws: Buffer[] = [];
  try {
    let total = 0;
    for (const item of req.items) {
      const out = plan.messageFor(item.address, item.row, item.fp);
      const verdict = guardMessage(out.raw, out.envelope, out.guard);
      messages.push({ offset: total, length: out.raw.length, envelope: out.envelope, messageId: out.messageId, verdict });
      raws.push(out.raw);
      total += out.raw.length;
      if (!verdict.ok) break;
    }
    const bytes = new ArrayBuffer(total);
    const view = new Uint8Array(bytes);
    for (let i = 0; i < raws.length; i++) view.set(raws[i]!, messages[i]!.offset);
    const res: BuildResponse = { id: req.id, ok: true, bytes, messages };
    port.postMessage(res, [bytes]);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const res: BuildResponse = { id: req.id, ok: false, error: { name: err.name, message: err.message } };
    port.postMessage(res);
  }
});
