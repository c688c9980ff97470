/**
 * Whether the sign may trust its clock for countdowns. A countdown computed on
 * a wrong clock is a confident lie; clock times are right whatever the sign's
 * clock says. The evidence: the manager's heartbeat (never queued nor retained,
 * so its send time is recent) must agree with the sign's clock, and the wall
 * clock must not jump against the monotonic one.
 *
 * The same evidence decides which times in messages are plausible (one rule,
 * see reference()): a sign whose clock the manager confirmed judges tightly; a
 * sign whose clock the manager's heartbeats contradict judges by the manager's
 * clock, so it keeps taking the manager's messages (showing clock times) rather
 * than refusing them all as dated in the future or the past.
 */
import {
  MAX_CLOCK_SKEW_SECONDS,
  SYNCED_SKEW_SECONDS,
  type TimeReference,
} from '../link/plausibleTimes';

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
  /** Manager's clock minus the sign's, from the last heartbeat. */
  private heardOffsetMs: number | null = null;
  /**
   * The offset two heartbeats in a row agreed on: only then are times judged by
   * the manager's clock, so one stray heartbeat cannot move the sign's sense of time.
   */
  private adoptedOffsetMs: number | null = null;

  constructor(private readonly options: ClockWatchOptions) {
    if (options.policy === 'trust') this.confirmed = true;
  }

  /** A heartbeat the manager sent at sentAtMs (its clock) arrived now. */
  heard(sentAtMs: number): void {
    if (this.options.policy === 'trust') return;
    const skew = this.options.wall() - sentAtMs;
    const max = this.options.maxSkewMs ?? 10_000;
    const offset = -skew;
    if (this.heardOffsetMs !== null && Math.abs(offset - this.heardOffsetMs) <= max) {
      this.adoptedOffsetMs = offset;
    }
    this.heardOffsetMs = offset;
    if (Math.abs(skew) <= max) {
      this.confirmed = true;
    } else {
      this.confirmed = false;
      this.reason = `clock differs from the manager's by ${Math.round(skew / 1000)} s`;
    }
  }

  /**
   * The clock message times are judged against, and how far off they may be:
   * the sign's clock, tightly once the manager confirmed it; the manager's
   * clock when its heartbeats agree with each other but not with the sign's;
   * the sign's clock, loosely, before any heartbeat or after a jump.
   */
  reference(): TimeReference {
    const wall = this.options.wall();
    const seconds = (ms: number) => Math.floor(ms / 1000);
    if (this.options.policy === 'trust') {
      return { now: seconds(wall), skewSeconds: MAX_CLOCK_SKEW_SECONDS };
    }
    if (this.confirmed) return { now: seconds(wall), skewSeconds: SYNCED_SKEW_SECONDS };
    if (this.adoptedOffsetMs !== null) {
      return { now: seconds(wall + this.adoptedOffsetMs), skewSeconds: SYNCED_SKEW_SECONDS };
    }
    return { now: seconds(wall), skewSeconds: MAX_CLOCK_SKEW_SECONDS };
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
        // What the heartbeats said was against the clock before the jump.
        this.heardOffsetMs = this.adoptedOffsetMs = null;
      }
    }
    this.lastWall = wall;
    this.lastMono = mono;
    return this.confirmed ? { synced: true } : { synced: false, reason: this.reason };
  }
}
