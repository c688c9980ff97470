/**
 * The agent's own MQTT session: it hears offers on the device's update topic
 * and reports on update-status (retained) and update-event. Its username and
 * client id are update:<deviceId> and its password the sign's secret, so it
 * never takes over the sign's session and may use the update topics only.
 */
import { EventEmitter } from 'node:events';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  decodeMessage,
  encodeMessage,
  topics,
  updateAgentUsername,
  type UpdateEventData,
  type UpdateOfferData,
  type UpdateStatusData,
} from '../../shared';

export interface UpdateChannel {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** null: the offer was withdrawn. */
  on(event: 'offer', listener: (offer: UpdateOfferData | null) => void): unknown;
  publishStatus(status: UpdateStatusData): void;
  publishEvent(event: UpdateEventData): void;
}

export class MqttUpdateLink extends EventEmitter implements UpdateChannel {
  private client: MqttClient | null = null;

  constructor(
    private readonly options: {
      deviceId: string;
      brokerUrl: string;
      /** The sign's credentials as the agent uses them; unset on a broker without accounts. */
      credentials?: { username: string; password: string; caPem: string } | undefined;
      logger: Logger;
    },
  ) {
    super();
  }

  async start(): Promise<void> {
    const { deviceId, brokerUrl, credentials, logger } = this.options;
    const client = mqtt.connect(brokerUrl, {
      clientId: updateAgentUsername(deviceId),
      ...(credentials
        ? { username: credentials.username, password: credentials.password, ca: credentials.caPem }
        : {}),
      // A refused CONNACK (a revoked sign) is retried at the same pace, not given up.
      reconnectOnConnackError: true,
      clean: false,
      reconnectPeriod: 5_000,
      connectTimeout: 10_000,
    });
    this.client = client;
    client.on('connect', () => {
      logger.info('update agent connected to broker');
      client
        .subscribeAsync(topics.deviceUpdateOffer(deviceId), { qos: 1 })
        .catch((err: Error) => logger.warn({ err: err.message }, 'subscribe failed'));
    });
    client.on('error', (err) => logger.debug({ err: err.message }, 'mqtt error'));
    client.on('message', (topic, payload) => {
      if (topic !== topics.deviceUpdateOffer(deviceId)) return;
      if (payload.length === 0) {
        this.emit('offer', null);
        return;
      }
      const decoded = decodeMessage('deviceUpdateOffer', payload, deviceId);
      if (!decoded.ok) {
        logger.warn({ reason: decoded.reason, detail: decoded.detail }, 'rejected update offer');
        return;
      }
      this.emit('offer', decoded.message.data);
    });
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return;
    await Promise.race([client.endAsync(), new Promise((r) => setTimeout(r, 2_000))]).catch(
      () => undefined,
    );
    client.removeAllListeners();
    client.on('error', () => undefined);
  }

  publishStatus(status: UpdateStatusData): void {
    this.publish(
      topics.deviceUpdateStatus(status.deviceId),
      encodeMessage('deviceUpdateStatus', status),
      true,
    );
  }

  publishEvent(event: UpdateEventData): void {
    this.publish(
      topics.deviceUpdateEvent(event.deviceId),
      encodeMessage('deviceUpdateEvent', event),
      false,
    );
  }

  /** QoS 1: mqtt.js keeps it while the link is down and sends it on reconnect. */
  private publish(topic: string, payload: string, retain: boolean): void {
    this.client?.publishAsync(topic, payload, { qos: 1, retain }).catch((err: Error) => {
      this.options.logger.warn({ err: err.message, topic }, 'update report not sent');
    });
  }
}
