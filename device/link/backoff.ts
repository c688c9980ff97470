/**
 * Exponential reconnect delays with a cap and jitter. Jitter spreads a fleet's
 * reconnects after a broker restart instead of having every sign knock at once.
 */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
  /** Fraction of the delay randomised either way, 0..1. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** Delay before the next attempt; each call counts one more failure. */
  next(): number {
    const { minMs, maxMs, jitter = 0.2, random = Math.random } = this.options;
    const exponent = Math.min(this.failures, 30);
    this.failures += 1;
    const base = Math.min(maxMs, minMs * 2 ** exponent);
    const spread = base * jitter * (random() * 2 - 1);
    return Math.round(Math.min(maxMs, Math.max(minMs, base + spread)));
  }

  reset(): void {
    this.failures = 0;
  }
}
