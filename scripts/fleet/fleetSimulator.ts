/**
 * Many simulated signs in one process, started at a set rate, bounded in
 * number; a share of them can lose their connection at once, as a cell
 * outage would do.
 */
import type { Logger } from 'pino';
import { anonymous, type CredentialSource } from './credentials';
import type { SimulatedIdentity } from './feedStops';
import { assertLoopback } from './loopback';
import { SimulatedSign, type SignObserver, type SimulatedSignOptions } from './simulatedSign';

/** Past this one process runs out of file descriptors long before anything interesting happens. */
export const MAX_SIGNS_PER_PROCESS = 25_000;

export type SignTiming = Pick<
  SimulatedSignOptions,
  | 'statusIntervalMs'
  | 'staleAfterSeconds'
  | 'reconnectMinMs'
  | 'reconnectMaxMs'
  | 'keepaliveSeconds'
  | 'connectTimeoutMs'
>;

/** The real sign's defaults (device/config.ts), except a longer connect timeout (the sign's is 10 s) for a host running thousands. */
export const DEFAULT_SIGN_TIMING: SignTiming = {
  statusIntervalMs: 60_000,
  staleAfterSeconds: 120,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 60_000,
  keepaliveSeconds: 30,
  connectTimeoutMs: 30_000,
};

export interface FleetOptions {
  brokerUrl: string;
  identities: readonly SimulatedIdentity[];
  /** New connections a second. */
  rampPerSecond: number;
  logger: Logger;
  credentials?: CredentialSource;
  observer?: SignObserver;
  timing?: Partial<SignTiming>;
  firmware?: string;
  /** Added to the wall clock: the manager's replay clock, when it runs on one. */
  clockOffsetMs?: number;
}

export interface FleetCounts {
  signs: number;
  connected: number;
  configured: number;
  withSchedule: number;
  withArrivals: number;
  live: number;
}

export class FleetSimulator {
  readonly signs: SimulatedSign[] = [];
  private stopped = false;

  constructor(private readonly options: FleetOptions) {
    assertLoopback(options.brokerUrl);
    if (options.identities.length > MAX_SIGNS_PER_PROCESS) {
      throw new Error(
        `${options.identities.length} signs is more than one process simulates (${MAX_SIGNS_PER_PROCESS})`,
      );
    }
    if (!(options.rampPerSecond > 0)) throw new Error('the ramp rate must be above zero');
  }

  /** Starts every sign at the ramp rate; resolves once the last one is started (not yet connected). */
  async start(): Promise<void> {
    const { identities, rampPerSecond } = this.options;
    const credentials = this.options.credentials ?? anonymous;
    const timing = { ...DEFAULT_SIGN_TIMING, ...this.options.timing };
    const began = performance.now();
    for (let i = 0; i < identities.length && !this.stopped; i++) {
      const due = began + (i / rampPerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const identity = identities[i] as SimulatedIdentity;
      const sign = new SimulatedSign({
        ...timing,
        deviceId: identity.deviceId,
        brokerUrl: this.options.brokerUrl,
        firmware: this.options.firmware ?? 'sim-1',
        logger: this.options.logger,
        credentials: await credentials(identity.deviceId),
        observer: this.options.observer,
        clock: offsetClock(this.options.clockOffsetMs),
      });
      this.signs.push(sign);
      await sign.start();
    }
  }

  /** Cuts the connections of a random `share` of the connected signs; returns how many. */
  dropShare(share: number): number {
    const connected = this.signs.filter((s) => s.connected);
    const count = Math.round(connected.length * Math.min(1, Math.max(0, share)));
    for (let i = connected.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [connected[i], connected[j]] = [connected[j] as SimulatedSign, connected[i] as SimulatedSign];
    }
    let cut = 0;
    for (const sign of connected.slice(0, count)) if (sign.cut()) cut += 1;
    return cut;
  }

  counts(): FleetCounts {
    const counts: FleetCounts = {
      signs: this.signs.length,
      connected: 0,
      configured: 0,
      withSchedule: 0,
      withArrivals: 0,
      live: 0,
    };
    for (const sign of this.signs) {
      if (sign.connected) counts.connected += 1;
      if (sign.stopId !== null) counts.configured += 1;
      if (sign.scheduleValidUntil !== null) counts.withSchedule += 1;
      if (sign.arrivals !== null) counts.withArrivals += 1;
      if (sign.mode === 'live') counts.live += 1;
    }
    return counts;
  }

  /** Every sign says goodbye cleanly, a few hundred at a time. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (let i = 0; i < this.signs.length; i += 500) {
      await Promise.all(this.signs.slice(i, i + 500).map((s) => s.stop()));
    }
  }
}

function offsetClock(offsetMs: number | undefined): (() => number) | undefined {
  if (!offsetMs) return undefined;
  return () => Date.now() + offsetMs;
}
