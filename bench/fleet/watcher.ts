/**
 * The benchmark's own subscriber on every stop's arrivals and announcements:
 * it sees when a pass begins and ends and keeps the last message per topic,
 * for the bare publisher to send again as the floor.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { RigClientOptions } from '../../scripts/fleet/rig';
import { TOPIC_ROOT } from '../../shared';
import { wallNow } from './measure';

export class Watcher {
  private client: MqttClient | undefined;
  /** Receipt times of arrivals messages, in order. */
  readonly arrivalTimes: number[] = [];
  readonly lastPayload = new Map<string, Buffer>();
  lastArrivalAt = 0;

  async start(brokerUrl: string, options: RigClientOptions): Promise<void> {
    const client = await mqtt.connectAsync(brokerUrl, {
      ...options,
      clean: true,
      reconnectPeriod: 500,
    });
    this.client = client;
    client.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      this.lastPayload.set(topic, payload);
      if (topic.endsWith('/arrivals')) {
        const at = wallNow();
        this.arrivalTimes.push(at);
        this.lastArrivalAt = at;
      }
    });
    client.on('connect', () => {
      void client.subscribeAsync([`${TOPIC_ROOT}/stop/+/arrivals`], { qos: 1 });
    });
    await client.subscribeAsync([`${TOPIC_ROOT}/stop/+/arrivals`], { qos: 1 });
  }

  /** The last arrivals message of every stop, by topic. */
  arrivalsPayloads(): Map<string, Buffer> {
    return new Map([...this.lastPayload].filter(([topic]) => topic.endsWith('/arrivals')));
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }
}

/** A plain client pushing messages through the broker as fast as it takes them: the floor. */
export async function barePublish(
  brokerUrl: string,
  options: RigClientOptions,
  messages: readonly { topic: string; payload: Buffer | string }[],
): Promise<void> {
  const client = await mqtt.connectAsync(brokerUrl, {
    ...options,
    clean: true,
  });
  try {
    await Promise.all(
      messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: true })),
    );
  } finally {
    await client.endAsync();
  }
}
