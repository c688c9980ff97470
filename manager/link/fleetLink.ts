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
  topics,
  type DataInputOf,
  type DeviceFrameData,
  type DeviceStatusData,
  type RejectReason,
  type TopicKind,
} from '../../shared';

export interface FleetLinkEvents {
  /** sentAt: the sign's own clock, epoch ms; a retained status may be old. */
  status: [status: DeviceStatusData, sentAt: number];
  frame: [deviceId: string, frame: DeviceFrameData];
  /** Fired on every (re)connect: retained state may be gone if the broker restarted. */
  connected: [];
  disconnected: [];
}

export interface FleetLinkOptions {
  url: string;
  clientId: string;
  version: string;
  startedAt: number;
  logger: Logger;
  /** Inbound packets past this end the connection before they are buffered. */
  maxPacketBytes: number;
}

export class FleetLink extends EventEmitter<FleetLinkEvents> {
  readonly rejections = new RejectionCounter();
  private client: MqttClient | undefined;

  constructor(private readonly options: FleetLinkOptions) {
    super();
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Resolves on the first connection; later reconnects are handled by mqtt.js. */
  async start(): Promise<void> {
    const { url, clientId, logger } = this.options;
    const client = mqtt.connect(url, {
      manualConnect: true,
      clientId,
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
    limitClientPackets(client, this.options.maxPacketBytes, (size) => {
      this.rejections.record('unknown-topic', 'oversized');
      logger.warn({ size, limit: this.options.maxPacketBytes }, 'MQTT packet over the size limit');
    });
    client.connect();
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => {
      logger.info({ url }, 'manager connected to MQTT broker');
      client.publish(topics.managerStatus(), this.managerStatus('online'), {
        qos: 1,
        retain: true,
      });
      client.subscribe([fleetFilters.deviceStatus, fleetFilters.deviceFrame], { qos: 1 });
      this.emit('connected');
    });
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
    if (!client) return;
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
    const payload = encodeMessage(kind, data);
    await this.requireClient().publishAsync(topic, payload, { qos: 1, retain });
  }

  /** A zero-length retained message removes the retained one (MQTT 3.1.1 §3.3.1.3). */
  async clearRetained(topic: string): Promise<void> {
    await this.requireClient().publishAsync(topic, '', { qos: 1, retain: true });
  }

  private requireClient(): MqttClient {
    if (!this.client) throw new Error('fleet link is not started');
    return this.client;
  }

  private managerStatus(state: 'online' | 'offline'): string {
    return encodeMessage('managerStatus', {
      state,
      startedAt: this.options.startedAt,
      version: this.options.version,
    });
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || (parsed.kind !== 'deviceStatus' && parsed.kind !== 'deviceFrame')) {
      this.rejections.record('unknown-topic', 'unknown-topic');
      return;
    }
    // A retained status cleared by an operator arrives empty: nothing to record.
    if (payload.length === 0) return;
    if (parsed.kind === 'deviceStatus') {
      const result = decodeMessage('deviceStatus', payload, parsed.id);
      if (!result.ok) return this.reject(topic, parsed.kind, result);
      this.emit('status', result.message.data, result.message.sentAt);
    } else {
      const result = decodeMessage('deviceFrame', payload);
      if (!result.ok) return this.reject(topic, parsed.kind, result);
      this.emit('frame', parsed.id, result.message.data);
    }
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
