/**
 * The sign's MQTT link to the manager. A persistent session (clean: false)
 * keeps QoS 1 messages for the sign while it is away; retained messages give it
 * the current config, schedule and arrivals the moment it (re)subscribes.
 * Every inbound message is checked and a bad one is logged and counted, never
 * thrown: one broken publisher must not take a sign off the air.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  encodeMessage,
  limitClientPackets,
  RejectionCounter,
  topics,
  type AnnouncementData,
  type ArrivalsData,
  type DataInputOf,
  type DeviceConfigData,
  type DeviceFrameData,
  type ManagerHeartbeatData,
  type ManagerStatusData,
  type ScheduleData,
  type StopAlertsData,
} from '../../shared';
import type { AnnouncementSource } from '../cache/signCache';
import { Backoff } from './backoff';
import { InboundRouter } from './inboundRouter';
import { MAX_CLOCK_SKEW_SECONDS, type TimeReference } from './plausibleTimes';

export type DeviceStatusInput = DataInputOf<'deviceStatus'>;

export type ConnectionEvent =
  | { state: 'connected'; failedAttempts: number }
  | { state: 'disconnected'; failedAttempts: number; retryInMs: number; lastError?: string };

export interface ManagerLinkEvents {
  config: [DeviceConfigData];
  arrivals: [ArrivalsData];
  schedule: [ScheduleData];
  announcement: [AnnouncementData, AnnouncementSource];
  announcementCleared: [AnnouncementSource];
  managerStatus: [ManagerStatusData];
  /** sentAt: the manager's clock, epoch ms; heartbeats are never queued, so it is recent. */
  heartbeat: [ManagerHeartbeatData, number];
  alerts: [StopAlertsData];
  connection: [ConnectionEvent];
}

/** What the sign needs from its link; tests may substitute their own. */
export interface SignLink {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Subscribes to this stop's topics (and drops the previous stop's); null follows none. */
  followStop(stopId: string | null): void;
  /** What times in inbound messages are judged against from now on (the sign's ClockWatch). */
  judgeTimesBy(reference: () => TimeReference): void;
  isConnected(): boolean;
  rejections(): Record<string, number>;
  /** Retained; while offline only the latest is kept and sent on reconnect. Resolves false if not sent. */
  publishStatus(data: DeviceStatusInput): Promise<boolean>;
  /** Retained; dropped while offline since a stale picture is worth nothing. */
  publishFrame(data: DeviceFrameData): Promise<boolean>;
  on<K extends keyof ManagerLinkEvents>(
    event: K,
    listener: (...args: ManagerLinkEvents[K]) => void,
  ): unknown;
  off<K extends keyof ManagerLinkEvents>(
    event: K,
    listener: (...args: ManagerLinkEvents[K]) => void,
  ): unknown;
}

export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

export interface ManagerLinkOptions {
  deviceId: string;
  brokerUrl: string;
  firmwareVersion: string;
  /** Epoch seconds the sign started, reported in status. */
  startedAt: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  /** Inbound packets past this end the connection before they are buffered; default 2 MiB. */
  maxPacketBytes?: number;
  keepaliveSeconds?: number;
  connectTimeoutMs?: number;
  /** The sign's broker account (username = device id) from its provisioned credentials. */
  username?: string | undefined;
  password?: string | undefined;
  /** The CA the broker must chain to: the one the sign was provisioned with, and no other. */
  caPem?: string | undefined;
  /** Network seam; defaults to mqtt.connect. */
  connect?: MqttConnect;
  /** Epoch milliseconds, to judge the times in messages; defaults to Date.now. */
  clock?: () => number;
}

const STOP_KINDS = ['stopArrivals', 'stopSchedule', 'stopAnnouncement', 'stopAlerts'] as const;

export class ManagerLink extends EventEmitter<ManagerLinkEvents> implements SignLink {
  private client: MqttClient | null = null;
  private readonly counter = new RejectionCounter();
  private readonly backoff: Backoff;
  private readonly router: InboundRouter;
  private stopId: string | null = null;
  /** Topics the broker may hold for this session, so a stop change can drop the old ones. */
  private readonly brokerTopics = new Set<string>();
  private latestStatus: DeviceStatusInput | null = null;
  private lastError: string | undefined;
  private stopping = false;
  /** Whether the current socket got as far as a CONNACK: a drop is not a failed attempt. */
  private sessionUp = false;
  private failedAttempts = 0;
  /** Until the sign says otherwise: its own clock, with the loose tolerance. */
  private reference = (): TimeReference => ({
    now: Math.floor((this.options.clock ?? Date.now)() / 1000),
    skewSeconds: MAX_CLOCK_SKEW_SECONDS,
  });

  constructor(private readonly options: ManagerLinkOptions) {
    super();
    this.backoff = new Backoff({ minMs: options.reconnectMinMs, maxMs: options.reconnectMaxMs });
    this.router = new InboundRouter({
      deviceId: options.deviceId,
      currentStopId: () => this.stopId,
      counter: this.counter,
      logger: options.logger,
      reference: () => this.reference(),
      // The router's signature already ties each event to its arguments.
      emit: (event, ...args) => void this.emit(event, ...(args as never)),
    });
  }

  judgeTimesBy(reference: () => TimeReference): void {
    this.reference = reference;
  }

  async start(): Promise<void> {
    if (this.client) return;
    this.stopping = false;
    const connect = this.options.connect ?? mqtt.connect;
    const client = connect(this.options.brokerUrl, {
      manualConnect: true,
      clientId: this.options.deviceId,
      clean: false,
      // Subscriptions are re-made on every connect below, including after a broker lost its sessions.
      resubscribe: false,
      reconnectPeriod: this.backoff.next(),
      // A refused CONNACK (revoked, broker store down) is retried with back-off like a lost link,
      // so a sign that is let in again comes back by itself.
      reconnectOnConnackError: true,
      keepalive: this.options.keepaliveSeconds ?? 30,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      will: this.willMessage(),
      ...(this.options.username !== undefined
        ? { username: this.options.username, password: this.options.password ?? '' }
        : {}),
      ...(this.options.caPem !== undefined
        ? { ca: this.options.caPem, rejectUnauthorized: true }
        : {}),
    });
    const maxPacketBytes = this.options.maxPacketBytes ?? 2 * 1024 * 1024;
    limitClientPackets(client, maxPacketBytes, (size) => {
      // Counted like any refused message; the connection is dropped and made again.
      this.counter.record('unknown-topic', 'oversized');
      this.options.logger.warn({ size, limit: maxPacketBytes }, 'MQTT packet over the size limit');
    });
    client.connect();
    this.client = client;
    client.on('connect', () => this.onConnect());
    client.on('close', () => this.onClose());
    client.on('error', (err) => {
      this.lastError = err.message;
      this.options.logger.debug({ err: err.message }, 'mqtt error');
    });
    client.on('message', (topic, payload) => this.router.route(topic, payload));
  }

  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.stopping = true;
    if (client.connected) {
      const offline = this.statusMessage('offline');
      // A clean shutdown says so itself; the will is only for crashes and lost links.
      await withTimeout(
        client.publishAsync(topics.deviceStatus(this.options.deviceId), offline, {
          qos: 1,
          retain: true,
        }),
        2_000,
      ).catch(() => undefined);
    }
    const ended = await withTimeout(client.endAsync(), 2_000).then(
      () => true,
      () => false,
    );
    if (!ended) await client.endAsync(true).catch(() => undefined);
    client.removeAllListeners();
    // A connect attempt already in flight may still fail after end(); it must not crash the process.
    client.on('error', () => undefined);
    this.client = null;
  }

  followStop(stopId: string | null): void {
    if (stopId === this.stopId) return;
    this.stopId = stopId;
    if (this.client) this.client.options.will = this.willMessage();
    this.syncSubscriptions();
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  rejections(): Record<string, number> {
    return this.counter.snapshot();
  }

  async publishStatus(data: DeviceStatusInput): Promise<boolean> {
    this.latestStatus = data;
    return this.publish('deviceStatus', encodeMessage('deviceStatus', data), 1);
  }

  async publishFrame(data: DeviceFrameData): Promise<boolean> {
    return this.publish('deviceFrame', encodeMessage('deviceFrame', data), 0);
  }

  private async publish(
    kind: 'deviceStatus' | 'deviceFrame',
    payload: string,
    qos: 0 | 1,
  ): Promise<boolean> {
    const client = this.client;
    // Queueing while offline would grow memory for as long as the outage lasts.
    if (!client?.connected) return false;
    try {
      await client.publishAsync(topics[kind](this.options.deviceId), payload, {
        qos,
        retain: true,
      });
      return true;
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message, kind }, 'publish failed');
      return false;
    }
  }

  private wantedTopics(): Set<string> {
    const id = this.options.deviceId;
    const wanted = new Set([
      topics.deviceConfig(id),
      topics.deviceAnnouncement(id),
      topics.cityAnnouncement(),
      topics.managerStatus(),
      topics.managerHeartbeat(),
    ]);
    if (this.stopId !== null) {
      for (const kind of STOP_KINDS) wanted.add(topics[kind](this.stopId));
    }
    return wanted;
  }

  private syncSubscriptions(): void {
    const client = this.client;
    if (!client?.connected) return;
    const wanted = this.wantedTopics();
    const stale = [...this.brokerTopics].filter((t) => !wanted.has(t));
    if (stale.length > 0) {
      for (const t of stale) this.brokerTopics.delete(t);
      client.unsubscribeAsync(stale).catch((err: Error) => {
        this.options.logger.warn({ err: err.message }, 'unsubscribe failed');
      });
    }
    const topicList = [...wanted];
    for (const t of topicList) this.brokerTopics.add(t);
    client.subscribeAsync(topicList, { qos: 1 }).catch((err: Error) => {
      this.options.logger.warn({ err: err.message }, 'subscribe failed');
    });
  }

  private onConnect(): void {
    const failedAttempts = this.failedAttempts;
    this.failedAttempts = 0;
    this.sessionUp = true;
    this.backoff.reset();
    if (this.client) this.client.options.reconnectPeriod = this.backoff.next();
    this.lastError = undefined;
    this.options.logger.info({ failedAttempts }, 'connected to broker');
    this.syncSubscriptions();
    const client = this.client;
    client
      ?.publishAsync(topics.deviceStatus(this.options.deviceId), this.statusMessage('online'), {
        qos: 1,
        retain: true,
      })
      .catch((err: Error) =>
        this.options.logger.warn({ err: err.message }, 'online status failed'),
      );
    this.emit('connection', { state: 'connected', failedAttempts });
  }

  /**
   * mqtt.js arms its reconnect timer from options.reconnectPeriod inside its own
   * 'close' handler, which runs before this one; setting the period here makes
   * the next attempt wait longer, up to the cap.
   */
  private onClose(): void {
    const client = this.client;
    if (!client || this.stopping) return;
    if (this.sessionUp) this.sessionUp = false;
    else this.failedAttempts += 1;
    const retryInMs = client.options.reconnectPeriod ?? 0;
    client.options.reconnectPeriod = this.backoff.next();
    const event: ConnectionEvent = {
      state: 'disconnected',
      failedAttempts: this.failedAttempts,
      retryInMs,
    };
    if (this.lastError !== undefined) event.lastError = this.lastError;
    this.options.logger.warn(event, 'broker connection lost, retrying');
    this.emit('connection', event);
  }

  private statusMessage(state: 'online' | 'offline'): string {
    const base: DeviceStatusInput = this.latestStatus ?? {
      deviceId: this.options.deviceId,
      state,
      firmware: this.options.firmwareVersion,
      mode: 'none',
      startedAt: this.options.startedAt,
    };
    const status: DeviceStatusInput = { ...base, state };
    if (this.stopId !== null) status.stopId = this.stopId;
    // Once offline, nobody can vouch for what the glass shows.
    if (state === 'offline') status.mode = 'none';
    return encodeMessage('deviceStatus', status);
  }

  private willMessage(): IClientOptions['will'] {
    return {
      topic: topics.deviceStatus(this.options.deviceId),
      payload: Buffer.from(this.statusMessage('offline')),
      qos: 1,
      retain: true,
    };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
