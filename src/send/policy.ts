/**
 * Retry, pacing and circuit-breaker policy, pure (docs/design.md, "Sending
 * and relay pushback"). RFC 5321 §4.2.1: 4yz replies are transient ("try
 * again"), 5yz permanent. Connection errors are transient.
 */

export interface RetryPolicy {
  /** First backoff; doubled each retry. */
  baseMs: number;
  capMs: number;
  /**
   * A message is retried until this long after its first attempt, however many
   * attempts that takes: relays count in time windows (Postfix's anvil and SES
   * per minute), and a fixed count of quick retries runs out inside the window.
   */
  budgetMs: number;
}

/** 0.5, 1, 2 … 30 s apart, for 5 minutes: a 60-second relay window is waited out several times over. */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 500, capMs: 30_000, budgetMs: 5 * 60_000 };

/** Exponential backoff with "equal jitter": half fixed, half random, so pooled retries spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

/** The slowest the send goes when a relay keeps throttling: one message every 5 s. */
export const RATE_FLOOR = 0.2;
/**
 * One cut per 5 s at most: the throttling replies to one burst, and the retries of the messages
 * throttled (each backs off on its own), halve the rate once, not once each — which would drive
 * it to the floor within a relay's window (measured: 15 messages past a 25-per-20-s window took
 * 72 s with a cut per second, 25 s with this).
 */
const CUT_SPACING_MS = 5000;
/** Additive increase: +1 message per second, per second without throttling. */
const RAISE_PER_SECOND = 1;

/**
 * The send rate under relay throttling: additive increase, multiplicative
 * decrease (as TCP's congestion control), between a floor and the configured
 * rate. A cut halves the rate actually achieved since the last cut (the
 * configured rate may be far above what connections deliver: halving 10,000/s
 * would change nothing), so a relay's window is found in a few cuts.
 */
export class AdaptiveRate {
  private current: number;
  private readonly floor: number;
  private lastCut = -Infinity;
  /** Successes counted from here (the start, or the last cut). */
  private measureFrom: number;
  private lastRaise: number;
  private since = 0;

  constructor(
    readonly ceiling: number,
    start: number,
  ) {
    this.current = ceiling;
    this.floor = Math.min(ceiling, RATE_FLOOR);
    this.measureFrom = start;
    this.lastRaise = start;
  }

  get rate(): number {
    return this.current;
  }

  /** The relay said "slow down". */
  onThrottle(now: number): void {
    if (now - this.lastCut < CUT_SPACING_MS) return;
    const achieved = this.since / (Math.max(now - this.measureFrom, 1000) / 1000);
    this.current = Math.max(this.floor, Math.min(this.current, achieved > 0 ? achieved : this.current) / 2);
    this.lastCut = now;
    this.measureFrom = now;
    this.lastRaise = now;
    this.since = 0;
  }

  /** A message accepted. */
  onSuccess(now: number): void {
    this.since++;
    if (this.current >= this.ceiling) return;
    const seconds = Math.floor((now - this.lastRaise) / 1000);
    if (seconds < 1) return;
    this.current = Math.min(this.ceiling, this.current + seconds * RAISE_PER_SECOND);
    this.lastRaise += seconds * 1000;
  }
}

/**
 * Trips when, over the last `window` final outcomes (at least `minSamples`
 * of them), the share of failures exceeds `maxRate`. A relay that refuses
 * everything, or a list full of dead addresses, stops the send early
 * instead of burning the sender's reputation.
 */
export class CircuitBreaker {
  private readonly ring: Uint8Array;
  private n = 0;
  private failures = 0;

  constructor(
    readonly maxRate: number,
    readonly window = 200,
    readonly minSamples = 50,
  ) {
    this.ring = new Uint8Array(window);
  }

  record(failed: boolean): void {
    const i = this.n % this.window;
    if (this.n >= this.window) this.failures -= this.ring[i]!;
    this.ring[i] = failed ? 1 : 0;
    if (failed) this.failures++;
    this.n++;
  }

  get samples(): number {
    return Math.min(this.n, this.window);
  }

  get rate(): number {
    return this.samples === 0 ? 0 : this.failures / this.samples;
  }

  get open(): boolean {
    return this.samples >= this.minSamples && this.rate > this.maxRate;
  }
}
