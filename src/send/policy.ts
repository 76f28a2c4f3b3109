/**
 * Retry and circuit-breaker policy, pure. RFC 5321 §4.2.1: 4yz replies are
 * transient ("try again"), 5yz permanent. Connection errors are transient.
 */

export interface RetryPolicy {
  /** Attempts per message including the first. */
  maxAttempts: number;
  /** First backoff; doubled each retry. */
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseMs: 500, capMs: 30_000 };

/** Exponential backoff with "equal jitter": half fixed, half random, so pooled retries spread out. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
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
