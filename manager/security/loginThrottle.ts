/**
 * Slows password guessing: after `maxFailures` failed logins for one account,
 * or `maxFailures * 4` from one address, within `windowSeconds`, further
 * attempts are refused without checking the password until the window has
 * passed. Failures are counted, not requests, so a person who types the right
 * password is never locked out by their own successful logins. Kept in memory:
 * each manager throttles what it sees.
 */
export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterSeconds: number;
}

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly options: { maxFailures: number; windowSeconds: number },
    private readonly clock: () => number = Date.now,
  ) {}

  check(account: string, address: string): ThrottleVerdict {
    const now = this.clock();
    const accountWait = this.wait(`a:${account}`, this.options.maxFailures, now);
    const addressWait = this.wait(`ip:${address}`, this.options.maxFailures * 4, now);
    const wait = Math.max(accountWait, addressWait);
    return { allowed: wait === 0, retryAfterSeconds: Math.ceil(wait / 1000) };
  }

  fail(account: string, address: string): void {
    const now = this.clock();
    for (const key of [`a:${account}`, `ip:${address}`]) {
      const recent = this.recent(key, now);
      recent.push(now);
      this.failures.set(key, recent);
    }
    if (this.failures.size > 100_000) this.prune(now);
  }

  succeed(account: string): void {
    this.failures.delete(`a:${account}`);
  }

  private wait(key: string, limit: number, now: number): number {
    const recent = this.recent(key, now);
    if (recent.length < limit) return 0;
    const oldest = recent[recent.length - limit] ?? now;
    return Math.max(1, oldest + this.options.windowSeconds * 1000 - now);
  }

  private recent(key: string, now: number): number[] {
    const since = now - this.options.windowSeconds * 1000;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private prune(now: number): void {
    for (const key of [...this.failures.keys()]) {
      if (this.recent(key, now).length === 0) this.failures.delete(key);
    }
  }
}
