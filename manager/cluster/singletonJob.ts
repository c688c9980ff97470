/**
 * A periodic job that runs on one manager at a time, such as advancing a
 * rollout: before each run the manager takes or renews the job's lease in the
 * shared store, and a manager without it skips the run. When the holder dies
 * its lease lapses and the next manager to tick takes the job over.
 */
import type { Logger } from 'pino';
import type { LeaseRepository } from '../store/leaseRepository';

export interface SingletonJobOptions {
  leases: LeaseRepository;
  /** The job's name, the same on every manager. */
  name: string;
  /** This manager. */
  holder: string;
  /** How long a lease lasts; a run should end well within it. */
  leaseMs: number;
  intervalMs: number;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  /**
   * One run. `stillHeld()` says whether the lease taken for this run has not
   * yet run out on this manager's clock: a run with several steps asks before
   * each, so a manager that stalled past its lease stops instead of racing the
   * one that took over.
   */
  run: (stillHeld: () => boolean) => Promise<void>;
}

export class SingletonJob {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<boolean> | undefined;

  constructor(private readonly options: SingletonJobOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  /** Stops ticking; by default gives the lease up so another manager takes over at once. */
  async stop(what: { release: boolean } = { release: true }): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.current?.catch(() => undefined);
    const { leases, name, holder } = this.options;
    if (what.release) await leases.release(name, holder).catch(() => undefined);
  }

  /** Runs the job now if this manager holds (or can take) its lease; resolves whether it ran. */
  tick(): Promise<boolean> {
    // A run still going when the timer fires again is not overlapped by a second one.
    if (this.current) return Promise.resolve(false);
    const run = this.runIfHeld().finally(() => {
      this.current = undefined;
    });
    this.current = run;
    return run;
  }

  private async runIfHeld(): Promise<boolean> {
    const { leases, name, holder, leaseMs, clock, logger } = this.options;
    const takenAt = clock();
    let held: boolean;
    try {
      held = await leases.acquire(name, holder, takenAt, leaseMs);
    } catch (err) {
      logger.warn({ job: name, err: (err as Error).message }, 'could not reach the job lease');
      return false;
    }
    if (!held) return false;
    try {
      await this.options.run(() => clock() < takenAt + leaseMs);
    } catch (err) {
      logger.warn({ job: name, err: (err as Error).message }, 'singleton job failed; will retry');
    }
    return true;
  }
}
