/** Messages between the fleet benchmark and its simulator worker processes. */
import type { FleetCounts, SignTiming } from '../../scripts/fleet/fleetSimulator';
import type { SimulatedIdentity } from '../../scripts/fleet/feedStops';
import type { ReceivedKind } from '../../scripts/fleet/simulatedSign';

/** What a worker records per sign: the first time after a mark it received a kind, or reconnected. */
export type MarkKind = ReceivedKind | 'connected';

/** The broker the simulated signs connect to, and how they prove who they are. */
export interface SimTarget {
  brokerUrl: string;
  /** deviceId → username and password, as provisioning issued them. */
  credentialsFile: string;
  /** The CA the broker's certificate chains to. */
  caPem: string;
  /** The managers' replay clock minus the wall clock, when they run on one. */
  clockOffsetMs?: number;
}

export type ToWorker =
  | {
      cmd: 'start';
      /** Plain clients that only connect (the connect storm's floor) instead of signs. */
      bare: boolean;
      target: SimTarget;
      identities: SimulatedIdentity[];
      rampPerSecond: number;
      timing: Partial<SignTiming>;
    }
  | { cmd: 'mark'; kinds: MarkKind[] }
  | { cmd: 'collect'; requestId: number; kind: MarkKind }
  | { cmd: 'inspect'; requestId: number; deviceIds: string[] }
  | { cmd: 'drop'; share: number }
  | { cmd: 'stop' };

export type FromWorker =
  | { type: 'counts'; counts: FleetCounts; rssMiB: number }
  | { type: 'started' }
  | { type: 'collected'; requestId: number; times: number[] }
  | { type: 'inspected'; requestId: number; signs: SignSnapshot[] }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

/** What a sign holds now, for explaining why it never got something. */
export interface SignSnapshot {
  deviceId: string;
  connected: boolean;
  stopId: string | null;
  /** Announcement source → id of the announcement the sign holds from it. */
  announcements: Record<string, string>;
}
