/**
 * Sends what realtime changes to the signs: the boards that changed (through
 * the stop publisher, one pass at a time), each stop's agency alerts when they
 * change, and the heartbeat that tells every sign how fresh its predictions are.
 */
import type { Logger } from 'pino';
import { parseTopic, topics, type StopAlertsData } from '../../shared';
import type { FleetLink } from '../link/fleetLink';
import type { RealtimeService } from './realtimeService';

/** What this needs from the stop publisher: its queue, and an arrivals pass over every stop. */
export interface ArrivalsPass {
  enqueue(task: () => Promise<void>): Promise<void>;
  publishArrivals(): Promise<void>;
}

export interface RealtimePublisherOptions {
  link: FleetLink;
  /** Stops that have signs. */
  stopIds: () => Promise<string[]>;
  service: RealtimeService;
  publisher: ArrivalsPass;
  clock: () => number;
  logger: Logger;
  heartbeatSeconds: number;
  /** Whether this manager sends the heartbeat now (one of several sharing a fleet may not). */
  sendsHeartbeat?: () => Promise<boolean>;
}

export class RealtimePublisher {
  private timer: NodeJS.Timeout | null = null;
  /** Stop id → alerts last sent there, as JSON. */
  private readonly sentAlerts = new Map<string, string>();
  heartbeatsSent = 0;
  /** A stop's retained alerts were overwritten by someone else: send them again. */
  private readonly onDrift = (topic: string): void => {
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'stopAlerts') return;
    void this.options.publisher.enqueue(async () => {
      this.sentAlerts.delete(parsed.id);
      await this.publishAlerts([parsed.id]);
    });
  };

  constructor(private readonly options: RealtimePublisherOptions) {}

  start(): void {
    this.options.link.on('drift', this.onDrift);
    this.timer = setInterval(() => void this.tick(), this.options.heartbeatSeconds * 1000);
  }

  stop(): void {
    this.options.link.off('drift', this.onDrift);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** After a broker restart nothing retained survives. */
  forgetSent(): void {
    this.sentAlerts.clear();
  }

  /** A feed changed: boards first, then alerts, then the heartbeat that vouches for them. */
  async feedChanged(): Promise<void> {
    await this.options.publisher.publishArrivals();
    await this.tick();
  }

  /** Periodic: boards age as buses leave, alerts expire, and signs need the heartbeat. */
  tick(): Promise<void> {
    return this.options.publisher.enqueue(async () => {
      if (!this.options.link.connected) return;
      await this.publishAlerts();
      if (this.options.sendsHeartbeat && !(await this.options.sendsHeartbeat())) return;
      await this.options.link.publishVolatile(
        'managerHeartbeat',
        topics.managerHeartbeat(),
        this.options.service.heartbeat(),
      );
      this.heartbeatsSent += 1;
    });
  }

  private async publishAlerts(only?: string[]): Promise<void> {
    const now = Math.floor(this.options.clock() / 1000);
    const stopIds = await this.options.stopIds();
    if (!only) {
      // A stop this manager does not publish (another does) may have been sent other alerts since.
      const current = new Set(stopIds);
      for (const stopId of this.sentAlerts.keys()) {
        if (!current.has(stopId)) this.sentAlerts.delete(stopId);
      }
    }
    for (const stopId of only?.filter((id) => stopIds.includes(id)) ?? stopIds) {
      const alerts = this.options.service.alertsFor(stopId);
      const json = JSON.stringify(alerts);
      if (this.sentAlerts.get(stopId) === json) continue;
      const data: StopAlertsData = { stopId, generatedAt: now, alerts };
      await this.options.link.publish('stopAlerts', topics.stopAlerts(stopId), data, true);
      this.sentAlerts.set(stopId, json);
    }
  }
}
