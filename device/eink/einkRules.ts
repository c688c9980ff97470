/**
 * The rules an e-paper panel lives by, checked by the controller simulators
 * on every refresh. A break is recorded and thrown back at the driver, so the
 * test that caused it fails where it happened.
 */
import type { PanelProfile } from '../../shared';

export type EinkRefreshPolicy = Extract<PanelProfile['refresh'], { kind: 'eink' }>;

export class EinkRuleViolation extends Error {
  override name = 'EinkRuleViolation';
}

export interface RefreshCounts {
  full: number;
  partial: number;
}

export class EinkRules {
  readonly violations: string[] = [];
  readonly counts: RefreshCounts = { full: 0, partial: 0 };
  private lastRefreshMs: number | null = null;
  private lastFullMs: number | null = null;
  private partialsSinceFull = 0;
  private mustSleep = false;

  constructor(
    private readonly policy: EinkRefreshPolicy,
    /** Epoch milliseconds, the same clock the driver uses. */
    private readonly clock: () => number,
  ) {}

  /** Throws (and records) the broken rule. */
  fail(message: string): never {
    this.violations.push(message);
    throw new EinkRuleViolation(message);
  }

  /** A refresh starts: rate, temperature, partial limits and the daily full refresh. */
  refresh(kind: 'full' | 'partial', temperatureC: number): void {
    const now = this.clock();
    const {
      minIntervalSeconds,
      temperatureC: range,
      partialsBeforeFull,
      fullEveryHours,
    } = this.policy;
    if (this.lastRefreshMs !== null && now - this.lastRefreshMs < minIntervalSeconds * 1000) {
      this.fail(
        `refresh ${((now - this.lastRefreshMs) / 1000).toFixed(1)} s after the last one; the panel allows one per ${minIntervalSeconds} s`,
      );
    }
    if (temperatureC < range.min || temperatureC > range.max) {
      this.fail(`refresh at ${temperatureC} °C, outside the rated ${range.min}..${range.max} °C`);
    }
    if (kind === 'partial') {
      if (partialsBeforeFull === 0)
        this.fail('partial refresh on a panel that refreshes whole only');
      if (this.lastFullMs === null) this.fail('partial refresh before any full refresh');
      if (this.partialsSinceFull >= partialsBeforeFull) {
        this.fail(
          `partial refresh number ${this.partialsSinceFull + 1} without a full one; at most ${partialsBeforeFull}`,
        );
      }
      if (now - this.lastFullMs >= fullEveryHours * 3_600_000) {
        this.fail(
          `no full refresh for ${((now - this.lastFullMs) / 3_600_000).toFixed(1)} h; at least every ${fullEveryHours} h`,
        );
      }
      this.partialsSinceFull += 1;
      this.counts.partial += 1;
    } else {
      this.partialsSinceFull = 0;
      this.lastFullMs = now;
      this.counts.full += 1;
    }
    this.lastRefreshMs = now;
    this.mustSleep = true;
  }

  /** Anything but the way to sleep after a refresh breaks "sleep after each refresh". */
  command(name: string, leadsToSleep: boolean): void {
    if (this.mustSleep && !leadsToSleep)
      this.fail(`${name} after a refresh without going to sleep first`);
  }

  asleep(): void {
    this.mustSleep = false;
  }

  /** For a test's last check: the panel was put to sleep after its last refresh. */
  get awakeAfterRefresh(): boolean {
    return this.mustSleep;
  }
}
