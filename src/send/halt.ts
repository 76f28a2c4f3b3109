/**
 * A stop request from outside the send loop: SIGINT/SIGTERM (cancelling the
 * workflow run), the guard, or the circuit breaker. Once halted, the loop
 * starts no new message; sleeps (backoff, canary pause) end at once.
 */
import { setMaxListeners } from "node:events";

export type HaltCause =
  | { kind: "signal"; signal: "SIGINT" | "SIGTERM" }
  /** `send --time-budget`: stops like SIGTERM, then exits 75 (docs/design.md, "Scheduling and continuation"). */
  | { kind: "budget"; seconds: number }
  | { kind: "abort"; reason: string };

/** What the ledger's end record says of a stop: a signal and a spent budget halt (resumable); the guard and the breaker abort. */
export function haltOutcome(cause: HaltCause | null): "completed" | "halted" | "aborted" {
  if (cause === null) return "completed";
  return cause.kind === "abort" ? "aborted" : "halted";
}

/** Why it stopped, for the ledger's end record (no addresses). */
export function haltDetail(cause: HaltCause | null): string | undefined {
  if (cause === null) return undefined;
  if (cause.kind === "signal") return cause.signal;
  if (cause.kind === "budget") return `time budget of ${cause.seconds} s spent`;
  return cause.reason;
}

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

/**
 * How long a stopped send lets messages in flight finish before it cuts them:
 * the whole stop must fit in 5 s (GitHub sends SIGKILL about 10 s after a
 * cancel), and the ledger's last records and the connections' closing need
 * the rest.
 */
export const STOP_GRACE_MS = 3000;

export interface StopHooks {
  /** Cut everything in flight now; returns how many it leaves in doubt (mail/port.ts abort). */
  cut(): number;
  /** One line for the operator. */
  say(line: string): void;
  graceMs?: number;
}

/**
 * SIGINT / SIGTERM during a send (docs/design.md, "Sending and relay
 * pushback"): the first stops new messages and gives those in flight
 * `graceMs`, then cuts them, whatever they wait on (a reply, a backoff, a
 * slow relay); a second signal cuts at once and says how many it leaves in
 * doubt. A message whose data went out without a final reply stays in doubt,
 * as always. Returns the function that removes the handlers.
 */
export function stopOnSignals(halt: Halt, hooks: StopHooks): () => void {
  let timer: NodeJS.Timeout | null = null;
  let cut = false;
  const cutNow = (why: string) => {
    if (cut) return;
    cut = true;
    if (timer) clearTimeout(timer);
    const left = hooks.cut();
    hooks.say(`newsletter: ${why}: stopped now; ${left} message(s) in flight left in doubt (see the summary)\n`);
  };
  const on = (signal: "SIGINT" | "SIGTERM") => () => {
    if (halt.cause?.kind === "signal") return cutNow(`second ${signal}`);
    hooks.say(`\nnewsletter: ${signal}: no new messages; waiting up to ${Math.round((hooks.graceMs ?? STOP_GRACE_MS) / 1000)} s for those in flight (again to stop now)\n`);
    halt.stop({ kind: "signal", signal });
    timer = setTimeout(() => cutNow(`${signal}, grace period over`), hooks.graceMs ?? STOP_GRACE_MS);
  };
  const onInt = on("SIGINT");
  const onTerm = on("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  return () => {
    if (timer) clearTimeout(timer);
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
  };
}
