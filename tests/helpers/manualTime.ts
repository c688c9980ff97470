/**
 * A clock and timers that move only when told: a day of e-paper policy runs
 * in milliseconds. Due timers fire in order as the clock passes them.
 */
import type { Timers } from '../../device/eink/einkPanel';

interface Pending {
  at: number;
  fn: () => void;
  id: number;
}

export class ManualTime implements Timers {
  private nowMs: number;
  private pending: Pending[] = [];
  private nextId = 1;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  readonly clock = (): number => this.nowMs;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.push({ at: this.nowMs + Math.max(0, ms), fn, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Moves the clock forward, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > until) break;
      this.pending.shift();
      this.nowMs = Math.max(this.nowMs, next.at);
      next.fn();
    }
    this.nowMs = until;
  }
}
