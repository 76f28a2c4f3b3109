/**
 * A compose thread (build-pool.ts): makes its own Plan from the same inputs
 * (compileBody and the composer are deterministic, so its messages are the
 * main thread's byte for byte), then for each recipient of a request
 * composes the message and runs the per-message guard (DESIGN.md invariant
 * 4) on exactly those bytes, which it hands back without a copy
 * (transferred). It stops at the first refused message: nothing after it is
 * composed, as in the loop.
 */
import { parentPort, workerData } from "node:worker_threads";
import { guardMessage } from "../guard/guard.ts";
import type { GuardVerdict } from "../guard/port.ts";
import type { Envelope } from "../transport/port.ts";
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
  raw: Uint8Array;
  envelope: Envelope;
  messageId: string;
  verdict: GuardVerdict;
}

export type BuildResponse =
  | { id: number; ok: true; messages: BuiltMessage[] }
  | { id: number; ok: false; error: { name: string; message: string } };

const port = parentPort;
if (port === null) throw new Error("build-worker.ts runs as a worker thread only");
const plan = makePlan(workerData.plan as PlanInput);

port.on("message", (req: BuildRequest) => {
  const messages: BuiltMessage[] = [];
  const transfer: ArrayBuffer[] = [];
  try {
    for (const item of req.items) {
      const out = plan.messageFor(item.address, item.row, item.fp);
      const verdict = guardMessage(out.raw, out.envelope, out.guard);
      // A composed message owns its ArrayBuffer unless it is small enough for Buffer's shared pool:
      // then a copy, so that transferring never takes other bytes along.
      const owns = out.raw.byteOffset === 0 && out.raw.byteLength === out.raw.buffer.byteLength;
      const raw = owns ? out.raw : new Uint8Array(out.raw);
      messages.push({ raw, envelope: out.envelope, messageId: out.messageId, verdict });
      transfer.push(raw.buffer as ArrayBuffer);
      if (!verdict.ok) break;
    }
    const res: BuildResponse = { id: req.id, ok: true, messages };
    port.postMessage(res, transfer);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const res: BuildResponse = { id: req.id, ok: false, error: { name: err.name, message: err.message } };
    port.postMessage(res);
  }
});
