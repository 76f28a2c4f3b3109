/**
 * The send loop's state: one object that every step of the loop (select.ts → build.ts →
 * handover.ts → deliver.ts → record.ts, driven by pipeline.ts) reads and changes, so that each
 * step is a function of it that a test can call alone. Nothing here does any work.
 */
import type { Halt } from "../halt.ts";
import type { Checked, PipelineDeps, PipelineOptions, PipelineResult, SendItem } from "../pipeline-types.ts";
import { AdaptiveRate, CircuitBreaker, DEFAULT_RETRY, type RetryPolicy } from "../policy.ts";

type FullLedger = PipelineDeps["ledger"];

/** What the loop uses of the ledger (src/ledger/ledger.ts holds each method's contract). */
export interface LoopLedger {
  /** Each recipient's state, updated as soon as a record is applied (a claim: when `claim` is called). */
  readonly state: { readonly recipients: Pick<FullLedger["state"]["recipients"], "get"> };
  /** Durable before it resolves, together with every outcome written before it. */
  claim(fps: readonly string[]): Promise<void>;
  /** Written at once, durable with the next claim or flush. */
  recordSent(fp: string, mid: string): void;
  recordFailed(fp: string, permanent: boolean, reason: string, code?: number): void;
  /** Claimed recipients never handed to the transport: not in doubt. */
  release(fps: readonly string[]): void;
  /** Waits for every write so far and makes it durable. */
  flush(): Promise<void>;
  /** The end record, made durable. */
  end(outcome: PipelineResult["outcome"], detail?: string): Promise<void>;
}

/** The ports the loop is given, with the ledger narrowed to what it uses. */
export type LoopDeps = Omit<PipelineDeps, "ledger"> & { ledger: LoopLedger };

/** Groups composed ahead of their claims when composing runs on other threads. */
export const LOOKAHEAD_GROUPS = 3;

/** A group formed and sent to be composed before its turn to be claimed. */
export interface Ahead {
  group: SendItem[];
  built: Promise<Checked[] | null>;
}

export interface LoopState {
  readonly deps: LoopDeps;
  readonly opts: PipelineOptions;
  readonly halt: Halt;
  readonly now: () => number;
  readonly random: () => number;
  readonly retry: RetryPolicy;
  /** Recipients per claim (select.ts `groupSizeFor`). */
  readonly groupSize: number;
  /** Groups composed ahead of their claims: LOOKAHEAD_GROUPS with compose threads, else 0. */
  readonly lookahead: number;
  readonly items: AsyncIterator<SendItem> | Iterator<SendItem>;
  /** This run's counts and lists: what runPipeline returns. */
  readonly result: PipelineResult;
  readonly breaker: CircuitBreaker;
  /** The rate, lowered while the relay throttles (docs/design.md, "Sending and relay pushback"). */
  readonly pace: AdaptiveRate;
  readonly started: number;
  /** When the last message (or retry) was let go. */
  lastSlotAt: number;
  /** Deliveries handed to the transport and not yet settled. */
  readonly inflight: Set<Promise<void>>;
  /** Messages let go so far (dry run: composed and counted). */
  launched: number;
  /** Claimed (or being claimed) and not yet handed over or released: counts against maxInFlight. */
  reserved: number;
  canaryDone: boolean;
  /**
   * Recipients in a group not yet claimed. With the ledger's states (updated when a claim is
   * made) this is the last guard against a recipient listed twice (the checks refuse duplicates;
   * the list is streamed without a set of every address): every recipient is in one of the two
   * from the moment its group is formed. A dry run claims nothing, so it keeps them all.
   */
  readonly forming: Set<string>;
  /** Recipients put into groups so far: the canary is cut to its exact size. */
  formed: number;
  readonly ahead: Ahead[];
  /** The list has no more recipients to send. */
  exhausted: boolean;
  /** Hand-overs run one after another, in list order; false once the send must stop. Never rejects. */
  chain: Promise<boolean>;
  readonly handovers: Set<Promise<unknown>>;
  /** The first failure of a hand-over (a claim that could not be written, a message that could not be composed). */
  failure: { error: unknown } | null;
}

/**
 * A group is claimed once it fits in the free half of the window (or nothing is claimed at
 * all): claims of one recipient each would cost a line and an fsync wait per message, and two
 * half-window groups keep the pool busy while the next claim is made durable.
 */
export function groupSizeFor(opts: Pick<PipelineOptions, "batchSize" | "maxInFlight">): number {
  return Math.max(1, Math.min(opts.batchSize, Math.ceil(opts.maxInFlight / 2)));
}

export function newLoopState(
  items: AsyncIterable<SendItem> | Iterable<SendItem>,
  deps: LoopDeps,
  opts: PipelineOptions,
  halt: Halt,
): LoopState {
  const now = deps.now ?? Date.now;
  const started = now();
  return {
    deps, opts, halt, now,
    random: deps.random ?? Math.random,
    retry: opts.retry ?? DEFAULT_RETRY,
    groupSize: groupSizeFor(opts),
    // Compose threads work ahead of the claims (pipeline.ts); on this thread there is nothing to gain.
    lookahead: deps.buildGroup ? LOOKAHEAD_GROUPS : 0,
    items: Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<SendItem>)[Symbol.iterator](),
    result: { outcome: "completed", halt, sent: 0, dryRunChecked: 0, alreadySent: 0, alreadyFailed: 0, failed: [], inDoubt: [], duplicates: 0 },
    breaker: new CircuitBreaker(opts.maxFailureRate),
    pace: new AdaptiveRate(opts.rate, started),
    started,
    lastSlotAt: -Infinity,
    inflight: new Set(),
    launched: 0,
    reserved: 0,
    canaryDone: !opts.canary || opts.canary.size <= 0,
    forming: new Set(),
    formed: 0,
    ahead: [],
    exhausted: false,
    chain: Promise.resolve(true),
    handovers: new Set(),
    failure: null,
  };
}
