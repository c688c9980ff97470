/**
 * A lock several managers take in the shared store before a step that must
 * not run on two of them at once, such as planning a rollout from the state
 * they both read: a lease taken for the step and given up after it. A holder
 * that dies loses it when the lease runs out.
 */
import type { LeaseRepository } from '../store/leaseRepository';

export interface StoreMutexOptions {
  leases: LeaseRepository;
  /** The lock's name, the same on every manager. */
  name: string;
  /** This manager. */
  holder: string;
  /** How long one step may hold the lock before another manager may take it. */
  leaseMs: number;
  /** Epoch milliseconds. */
  clock: () => number;
  /** Pause between attempts while another manager holds it; jittered so two do not collide again. */
  retryMs?: number;
}

export class StoreMutexTimeout extends Error {}

export class StoreMutex {
  constructor(private readonly options: StoreMutexOptions) {}

  /**
   * Runs `step` once the lock is held and gives it up afterwards. Waits at most
   * two lease lengths: a holder that died has lost it by then.
   */
  async run<T>(step: () => Promise<T>): Promise<T> {
    const { leases, name, holder, leaseMs, clock } = this.options;
    const retryMs = this.options.retryMs ?? 50;
    const giveUpAt = Date.now() + 2 * leaseMs;
    while (!(await leases.acquire(name, holder, clock(), leaseMs))) {
      if (Date.now() > giveUpAt) {
        throw new StoreMutexTimeout(
          `another manager has held "${name}" for over ${2 * leaseMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs * (0.5 + Math.random())));
    }
    try {
      return await step();
    } finally {
      await leases.release(name, holder).catch(() => undefined);
    }
  }
}
