/**
 * A stop request from outside the send loop: SIGINT/SIGTERM (cancelling the
 * workflow run), the guard, or the circuit breaker. Once halted, the loop
 * starts no new message; sleeps (backoff, canary pause) end at once.
 */
import { setMaxListeners } from "node:events";

export type HaltCause = { kind: "signal"; signal: "SIGINT" | "SIGTERM" } | { kind: "abort"; reason: string };

export class Halt {
  private readonly ac = new AbortController();
  constructor() {
    // Every message sleeping in backoff listens here (at most the in-flight bound): not a leak.
    setMaxListeners(0, this.ac.signal);
  }
  cause: HaltCause | null = null;

  get halted(): boolean {
    return this.cause !== null;
  }

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** The first cause wins: an abort after a signal does not change the exit code, and vice versa. */
  stop(cause: HaltCause): void {
    if (this.cause) return;
    this.cause = cause;
    this.ac.abort();
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
