/**
 * Whether the sign may trust its clock for countdowns. A countdown computed on
 * a wrong clock is a confident lie; clock times are right whatever the sign's
 * clock says. The evidence: the manager's heartbeat (never queued nor retained,
 * so its send time is recent) must agree with the sign's clock, and the wall
 * clock must not jump against the monotonic one.
 */

export interface ClockState {
  synced: boolean;
  reason?: string;
}

export interface ClockWatchOptions {
  /** Epoch milliseconds. */
  wall: () => number;
  /** Milliseconds from a monotonic source. */
  monotonic: () => number;
  /** 'manager': trust the clock once it agrees with the manager's; 'trust': always trust it. */
  policy: 'manager' | 'trust';
  /** Largest disagreement with the manager's clock still taken as synchronised. */
  maxSkewMs?: number;
  /** A wall-clock step larger than this between two checks is a jump. */
  maxJumpMs?: number;
}

export class ClockWatch {
  private confirmed = false;
  private reason = 'no time sync yet: waiting for the manager';
  private lastWall: number | null = null;
  private lastMono: number | null = null;

  constructor(private readonly options: ClockWatchOptions) {
    if (options.policy === 'trust') this.confirmed = true;
  }

  /** A heartbeat the manager sent at sentAtMs (its clock) arrived now. */
  heard(sentAtMs: number): void {
    if (this.options.policy === 'trust') return;
    const skew = this.options.wall() - sentAtMs;
    const max = this.options.maxSkewMs ?? 10_000;
    if (Math.abs(skew) <= max) {
      this.confirmed = true;
    } else {
      this.confirmed = false;
      this.reason = `clock differs from the manager's by ${Math.round(skew / 1000)} s`;
    }
  }

  /** Called every tick: a jump withdraws trust until the manager confirms the clock again. */
  check(): ClockState {
    const wall = this.options.wall();
    const mono = this.options.monotonic();
    if (this.lastWall !== null && this.lastMono !== null) {
      const drift = wall - this.lastWall - (mono - this.lastMono);
      if (Math.abs(drift) > (this.options.maxJumpMs ?? 5_000) && this.options.policy !== 'trust') {
        this.confirmed = false;
        this.reason = `clock jumped by ${Math.round(drift / 1000)} s`;
      }
    }
    this.lastWall = wall;
    this.lastMono = mono;
    return this.confirmed ? { synced: true } : { synced: false, reason: this.reason };
  }
}
