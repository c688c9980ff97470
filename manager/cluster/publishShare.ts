/**
 * Which part of the fleet's publishing is this manager's. Alone (the embedded
 * broker) it is everything. Among managers sharing a broker, stops and
 * retained topics are split by rendezvous hashing over the live members; each
 * stop is claimed per publishing round in the shared store, and every change
 * of a retained announcement is recorded there before it is sent, so no stop
 * is published twice in a round and no announcement is sent twice, even while
 * managers briefly disagree about who is alive.
 */
import { EventEmitter } from 'node:events';
import type {
  AnnouncementDelivery,
  AnnouncementDeliveryRepository,
} from '../store/announcementDeliveryRepository';
import type { LeaseRepository } from '../store/leaseRepository';
import type { StopRoundRepository } from '../store/stopRoundRepository';
import type { ClusterMembership } from './membership';

export interface ShareReport {
  mode: 'alone' | 'shared';
  memberId: string;
  members: string[];
  /** Stops this manager published in its last pass. */
  stopsLastPass: number;
}

export interface PublishShareEvents {
  /** Members came or went: stops may have come to this manager. */
  changed: [];
}

export interface PublishShare extends EventEmitter<PublishShareEvents> {
  /** The stops of `stopIds` this manager publishes in the round of `nowMs`; no other manager gets them in it. */
  claimStops(stopIds: readonly string[], nowMs: number): Promise<string[]>;
  /** Whether this manager sweeps the retained topic and re-sends it after a reconnect. */
  ownsTopic(topic: string): boolean;
  /** Records what each topic carries ('' cleared); gives back the topics the caller should send. */
  recordAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<Set<string>>;
  /** Records them whatever was recorded (a re-send after a reconnect). */
  overwriteAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<void>;
  /** Topics recorded as carrying an announcement, with its id. */
  carrying(): Promise<Map<string, string>>;
  /**
   * Whether this manager does the fleet-wide `job` now (e.g. the realtime
   * heartbeat): one manager at a time, under a lease renewed at each call.
   */
  leads(job: string): Promise<boolean>;
  report(): ShareReport;
}

/** One manager with its own broker: every stop and topic is its own; what was sent is kept in memory. */
export class WholeFleet extends EventEmitter<PublishShareEvents> implements PublishShare {
  private readonly sent = new Map<string, string>();
  private stopsLastPass = 0;

  constructor(private readonly memberId = 'manager') {
    super();
  }

  async claimStops(stopIds: readonly string[]): Promise<string[]> {
    this.stopsLastPass = stopIds.length;
    return [...stopIds];
  }

  ownsTopic(): boolean {
    return true;
  }

  async recordAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<Set<string>> {
    const changed = new Set<string>();
    for (const { topic, announcementId } of deliveries) {
      if (this.sent.get(topic) === announcementId) continue;
      this.sent.set(topic, announcementId);
      changed.add(topic);
    }
    return changed;
  }

  async overwriteAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<void> {
    for (const { topic, announcementId } of deliveries) this.sent.set(topic, announcementId);
  }

  async carrying(): Promise<Map<string, string>> {
    return new Map([...this.sent].filter(([, id]) => id !== ''));
  }

  async leads(): Promise<boolean> {
    return true;
  }

  report(): ShareReport {
    return {
      mode: 'alone',
      memberId: this.memberId,
      members: [this.memberId],
      stopsLastPass: this.stopsLastPass,
    };
  }
}

export interface SharedFleetOptions {
  membership: ClusterMembership;
  rounds: StopRoundRepository;
  deliveries: AnnouncementDeliveryRepository;
  /** A publishing round lasts one publishing interval. */
  roundMs: number;
  leases: LeaseRepository;
  /** How long a fleet-wide job stays with a manager that stopped renewing it. */
  leaseMs: number;
  /** Epoch milliseconds. */
  clock: () => number;
}

export class SharedFleet extends EventEmitter<PublishShareEvents> implements PublishShare {
  private stopsLastPass = 0;
  private readonly onMembersChanged = (): void => void this.emit('changed');

  constructor(private readonly options: SharedFleetOptions) {
    super();
  }

  start(): void {
    this.options.membership.on('changed', this.onMembersChanged);
  }

  stop(): void {
    this.options.membership.off('changed', this.onMembersChanged);
  }

  async claimStops(stopIds: readonly string[], nowMs: number): Promise<string[]> {
    const { membership, rounds, roundMs } = this.options;
    const mine = stopIds.filter((id) => membership.owns(`stop:${id}`));
    const held = await rounds.claim(mine, Math.floor(nowMs / roundMs), membership.memberId);
    this.stopsLastPass = held.length;
    return held;
  }

  ownsTopic(topic: string): boolean {
    return this.options.membership.owns(`topic:${topic}`);
  }

  recordAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<Set<string>> {
    return this.options.deliveries.record(deliveries);
  }

  overwriteAnnouncements(deliveries: readonly AnnouncementDelivery[]): Promise<void> {
    return this.options.deliveries.overwrite(deliveries);
  }

  carrying(): Promise<Map<string, string>> {
    return this.options.deliveries.carrying();
  }

  async leads(job: string): Promise<boolean> {
    const { leases, membership, leaseMs, clock } = this.options;
    try {
      return await leases.acquire(`job:${job}`, membership.memberId, clock(), leaseMs);
    } catch {
      // The store is out of reach: another manager may hold the job, so this one does not.
      return false;
    }
  }

  report(): ShareReport {
    const { membership } = this.options;
    return {
      mode: 'shared',
      memberId: membership.memberId,
      members: membership.members(),
      stopsLastPass: this.stopsLastPass,
    };
  }
}
