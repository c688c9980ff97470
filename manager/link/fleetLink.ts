/**
 * The manager's MQTT client. It talks to the embedded broker or to an external
 * cluster the same way, so switching brokers is configuration only.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  decodeMessage,
  encodeMessage,
  fleetFilters,
  limitClientPackets,
  parseTopic,
  RejectionCounter,
  TOPIC_ROOT,
  topics,
  type DataInputOf,
  type DeviceFrameData,
  type DeviceStatusData,
  type RejectReason,
  type TopicKind,
  type UpdateEventData,
  type UpdateStatusData,
} from '../../shared';
import { RetainedLedger } from './retainedLedger';

export interface FleetLinkEvents {
  /** sentAt: the sign's own clock, epoch ms; a retained status may be old. */
  status: [status: DeviceStatusData, sentAt: number];
  frame: [deviceId: string, frame: DeviceFrameData];
  /** Fired on every (re)connect: retained state may be gone if the broker restarted. */
  connected: [];
  /** A retained topic the manager owns holds something else than it retained there. */
  drift: [topic: string];
  disconnected: [];
  /** A sign's update agent: where it is and how its last update ended (retained). */
  updateStatus: [status: UpdateStatusData];
  updateEvent: [event: UpdateEventData];
}

export interface FleetLinkOptions {
  url: string;
  /** The manager's broker account; its client id is the username (the broker insists). */
  username: string;
  password: string;
  /** The CA the broker's certificate must chain to, for mqtts:// URLs. */
  caPem?: string | undefined;
  version: string;
  startedAt: number;
  logger: Logger;
  /** Inbound packets past this end the connection before they are buffered; default 2 MiB. */
  maxPacketBytes?: number;
  /** How often retained drift is corrected; default 10 s. */
  reconcileSeconds?: number;
  /** Epoch milliseconds stamped on every envelope; the manager's (possibly replay) clock. */
  clock?: () => number;
  /**
   * Managers sharing one broker: signs' statuses and frames are split among
   * them through the MQTT 5 shared subscription `$share/<group>/...`, so each
   * message is handled by one manager. Unset: this manager hears them all.
   */
  sharedGroup?: string;
  /**
   * With a shared group: this manager's id, sent as the MQTT 5 user property
   * `manager` on what it publishes, so any message traces back to its sender.
   */
  memberId?: string;
}

/** Messages from signs this manager has handled, by kind. */
export interface ReceivedCounts {
  statuses: number;
  frames: number;
}

/** The retained topics the manager writes besides its status, watched so drift is seen. */
const OWNED_FILTERS = [
  `${TOPIC_ROOT}/stop/+/+`,
  `${TOPIC_ROOT}/device/+/config`,
  `${TOPIC_ROOT}/device/+/announcement`,
  topics.cityAnnouncement(),
];

export class FleetLink extends EventEmitter<FleetLinkEvents> {
  readonly rejections = new RejectionCounter();
  readonly received: ReceivedCounts = { statuses: 0, frames: 0 };
  private client: MqttClient | undefined;
  private readonly ledger: RetainedLedger;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(private readonly options: FleetLinkOptions) {
    super();
    // Sharing the fleet the link speaks MQTT 5 and asks for "no local": its own writes never return.
    this.ledger = new RetainedLedger(options.sharedGroup === undefined);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves on the first connection; later reconnects are handled by mqtt.js. */
  async start(): Promise<void> {
    const { url, username, password, caPem, logger, sharedGroup } = this.options;
    this.stopping = false;
    const share = (filter: string): string =>
      sharedGroup === undefined ? filter : `$share/${sharedGroup}/${filter}`;
    const client = mqtt.connect(url, {
      // Connected below, once the packet-size guard is in place.
      manualConnect: true,
      // The broker insists the client id is the account's name: each manager has its own account.
      clientId: username,
      username,
      password,
      ...(caPem ? { ca: caPem, rejectUnauthorized: true } : {}),
      // Shared subscriptions are MQTT 5 (Mosquitto 2 and EMQX also take them in 3.1.1, aedes not at all).
      protocolVersion: sharedGroup === undefined ? 4 : 5,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      will: {
        topic: topics.managerStatus(),
        payload: Buffer.from(this.managerStatus('offline')),
        qos: 1,
        retain: true,
      },
    });
    const maxPacketBytes = this.options.maxPacketBytes ?? 2 * 1024 * 1024;
    limitClientPackets(client, maxPacketBytes, (size) => {
      this.rejections.record('unknown-topic', 'oversized');
      logger.warn({ size, limit: maxPacketBytes }, 'MQTT packet over the size limit');
    });
    client.connect();
    this.client = client;
    client.on('message', (topic, payload, packet) =>
      this.onMessage(topic, payload, packet.properties?.userProperties?.manager),
    );
    client.on('connect', () => {
      logger.info({ url }, 'manager connected to MQTT broker');
      this.ledger.clear();
      void this.publishStatus('online');
      client.subscribe(subscriptions(share, sharedGroup !== undefined));
      this.emit('connected');
    });
    this.reconcile(logger);
    client.on('close', () => this.emit('disconnected'));
    client.on('error', (err) => logger.warn({ err: err.message }, 'MQTT error'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`could not reach MQTT broker at ${url} within 10 s`)),
        10_000,
      );
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    clearInterval(this.reconcileTimer);
    if (!client) return;
    this.stopping = true;
    if (client.connected) {
      // A clean shutdown says so itself; the last will is only for crashes.
      await client.publishAsync(topics.managerStatus(), this.managerStatus('offline'), {
        qos: 1,
        retain: true,
      });
    }
    await client.endAsync();
  }

  async publish<K extends TopicKind>(
    kind: K,
    topic: string,
    data: DataInputOf<K>,
    retain: boolean,
  ): Promise<void> {
    const payload = encodeMessage(kind, data, { sentAt: this.now() });
    if (retain) this.ledger.published(topic, payload);
    await this.requireClient().publishAsync(topic, payload, { qos: 1, retain, ...this.traced() });
  }

  /** QoS 0, not retained: for messages that are worthless once late, like the heartbeat. */
  async publishVolatile<K extends TopicKind>(
    kind: K,
    topic: string,
    data: DataInputOf<K>,
  ): Promise<void> {
    const payload = encodeMessage(kind, data, { sentAt: this.now() });
    await this.requireClient().publishAsync(topic, payload, {
      qos: 0,
      retain: false,
      ...this.traced(),
    });
  }

  /** A zero-length retained message removes the retained one (MQTT 3.1.1 §3.3.1.3). */
  async clearRetained(topic: string): Promise<void> {
    this.ledger.published(topic, '');
    await this.requireClient().publishAsync(topic, '', { qos: 1, retain: true, ...this.traced() });
  }

  /** MQTT 5 publish properties naming this manager; nothing on MQTT 3.1.1. */
  private traced(): { properties?: { userProperties: { manager: string } } } {
    const { sharedGroup, memberId } = this.options;
    if (sharedGroup === undefined || memberId === undefined) return {};
    return { properties: { userProperties: { manager: memberId } } };
  }

  /** Every reconcileSeconds, puts back what drifted from what this manager retained. */
  private reconcile(logger: Logger): void {
    this.reconcileTimer = setInterval(
      () => {
        for (const topic of this.ledger.drifted()) {
          logger.warn(
            { topic },
            'retained state drifted from what the manager published; correcting',
          );
          if (topic === topics.managerStatus()) void this.publishStatus('online');
          else this.emit('drift', topic);
        }
      },
      (this.options.reconcileSeconds ?? 10) * 1000,
    );
  }

  private async publishStatus(state: 'online'): Promise<void> {
    const payload = this.managerStatus(state);
    this.ledger.published(topics.managerStatus(), payload);
    await this.client
      ?.publishAsync(topics.managerStatus(), payload, { qos: 1, retain: true, ...this.traced() })
      .catch((err: Error) =>
        this.options.logger.warn({ err: err.message }, 'status publish failed'),
      );
  }

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('fleet link is not started');
    return this.client;
  }

  private managerStatus(state: 'online' | 'offline'): string {
    // Stamped with the manager's clock, like every other envelope: a sign on a replay clock judges it.
    return encodeMessage(
      'managerStatus',
      { state, startedAt: this.options.startedAt, version: this.options.version },
      { sentAt: this.now() },
    );
  }

  /** `sender`: the `manager` user property of an MQTT 5 message (managers sharing a fleet). */
  private onMessage(topic: string, payload: Buffer, sender?: string | string[]): void {
    const parsed = parseTopic(topic);
    if (parsed?.kind === 'managerStatus') return this.onManagerStatus(topic, payload);
    if (parsed?.kind === 'deviceUpdateStatus' || parsed?.kind === 'deviceUpdateEvent') {
      // A retained status cleared by an operator arrives empty: nothing to record.
      if (payload.length > 0) this.onUpdateReport(topic, parsed.kind, parsed.id, payload);
      return;
    }
    if (parsed && parsed.kind !== 'deviceStatus' && parsed.kind !== 'deviceFrame') {
      // One of the managers' retained topics: only drift matters here.
      this.noteRetained(topic, payload, parsed.kind.endsWith('Announcement'), sender);
      return;
    }
    if (!parsed) {
      this.rejections.record('unknown-topic', 'unknown-topic');
      return;
    }
    // A retained status cleared by an operator arrives empty: nothing to record.
    if (payload.length === 0) return;
    if (parsed.kind === 'deviceStatus') {
      const result = decodeMessage('deviceStatus', payload, parsed.id);
      if (!result.ok) return this.reject(topic, parsed.kind, result);
      this.received.statuses += 1;
      this.emit('status', result.message.data, result.message.sentAt);
    } else {
      const result = decodeMessage('deviceFrame', payload);
      if (!result.ok) return this.reject(topic, parsed.kind, result);
      this.received.frames += 1;
      this.emit('frame', parsed.id, result.message.data);
    }
  }

  private onUpdateReport(
    topic: string,
    kind: 'deviceUpdateStatus' | 'deviceUpdateEvent',
    deviceId: string,
    payload: Buffer,
  ): void {
    if (kind === 'deviceUpdateStatus') {
      const result = decodeMessage(kind, payload, deviceId);
      if (!result.ok) return this.reject(topic, kind, result);
      this.emit('updateStatus', result.message.data);
    } else {
      const result = decodeMessage(kind, payload, deviceId);
      if (!result.ok) return this.reject(topic, kind, result);
      this.emit('updateEvent', result.message.data);
    }
  }

  /**
   * The signs' one retained manager status says offline when any manager
   * stops or dies (its last will), or when a stranger writes it: while this
   * one runs, it says online again at once, so the signs stay live on the
   * managers that remain. Alone on the broker, anything else there that it
   * did not send is drift, put back on the next reconcile tick.
   */
  private onManagerStatus(topic: string, payload: Buffer): void {
    const client = this.client;
    if (this.stopping || !client?.connected) return;
    if (this.options.sharedGroup === undefined) this.ledger.delivered(topic, payload, true);
    if (payload.length === 0) return;
    const result = decodeMessage('managerStatus', payload);
    if (!result.ok || result.message.data.state !== 'offline') return;
    this.options.logger.info('a manager went offline; this one still serves the signs');
    void this.publishStatus('online');
  }

  /**
   * Alone on the broker, whatever arrives on a topic this manager retained is
   * checked against it, and on its announcement topics anything it never sent
   * is drift. Sharing the fleet, another manager's message (named by its
   * `manager` property) makes that topic the other's: this one forgets it. A
   * message without one is a stranger's, drift for the manager that last
   * retained the topic, which corrects it.
   */
  private noteRetained(
    topic: string,
    payload: Buffer,
    mustOwn: boolean,
    sender: string | string[] | undefined,
  ): void {
    const { sharedGroup, memberId } = this.options;
    if (sharedGroup === undefined) return this.ledger.delivered(topic, payload, mustOwn);
    const from = Array.isArray(sender) ? sender[0] : sender;
    if (from !== undefined && from !== memberId) return this.ledger.forget(topic);
    this.ledger.delivered(topic, payload, false);
  }

  private reject(
    topic: string,
    kind: TopicKind,
    failure: { reason: RejectReason; detail: string },
  ): void {
    this.rejections.record(kind, failure.reason);
    this.options.logger.warn(
      { topic, reason: failure.reason, detail: failure.detail },
      'rejected message',
    );
  }
}

/**
 * What the manager listens to. Statuses, frames and the managers' own topics
 * are retained state, taken at QoS 0: a broker holds at most a few
 * unacknowledged QoS 1 messages per client (Mosquitto: 20 in flight, 1,000
 * queued) and drops the rest, so a fleet reconnecting at once lost statuses
 * behind the acknowledgements, and a stranger rewriting every stop's board
 * lost drift reports; at QoS 0 they go straight to the socket, and the newest
 * is retained if one is missed. On MQTT 5, "no local" keeps the manager's own
 * retained writes from coming back to it: they doubled what it received and,
 * in a publishing pass, filled that same queue. Drift is what others write.
 */
function subscriptions(
  share: (filter: string) => string,
  mqtt5: boolean,
): Record<string, { qos: 0 | 1; nl?: boolean }> {
  const notOwn = mqtt5 ? { nl: true } : {};
  return {
    [share(fleetFilters.deviceStatus)]: { qos: 0 },
    [share(fleetFilters.deviceFrame)]: { qos: 0 },
    // Update reports drive rollouts: each one counts, so each is acknowledged.
    [share(fleetFilters.deviceUpdateStatus)]: { qos: 1 },
    [share(fleetFilters.deviceUpdateEvent)]: { qos: 1 },
    [topics.managerStatus()]: { qos: 1, ...notOwn },
    // What the managers retained, watched to see drift.
    ...Object.fromEntries(OWNED_FILTERS.map((filter) => [filter, { qos: 0 as const, ...notOwn }])),
  };
}
