/**
 * The embedded broker's retained messages, looked up by exact topic for the
 * filters signs use, still behave as MQTT says: the newest per topic, gone
 * after an empty retained publish, found by wildcard filters too, and
 * delivered to a subscriber that mixes both kinds.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../manager/broker/embeddedBroker';
import { quietLogger } from './helpers/system';

describe('embedded broker, retained messages', () => {
  let broker: EmbeddedBroker;
  let url: string;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: quietLogger });
    url = `mqtt://127.0.0.1:${await broker.start()}`;
    publisher = await mqtt.connectAsync(url, { clientId: 'publisher' });
    const retain = (topic: string, payload: string) =>
      publisher.publishAsync(topic, payload, { qos: 1, retain: true });
    await retain('stopsign/v1/stop/A/arrivals', 'old');
    await retain('stopsign/v1/stop/A/arrivals', 'new');
    await retain('stopsign/v1/stop/B/arrivals', 'b');
    await retain('stopsign/v1/stop/C/announcement', 'c');
    await retain('stopsign/v1/stop/C/announcement', '');
    await retain('stopsign/v1/device/k1/config', 'k1');
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
  });

  /** What a new subscriber to `filters` gets right after subscribing. */
  async function retainedFor(filters: string[]): Promise<string[]> {
    const client = await mqtt.connectAsync(url, { clientId: `sub-${Math.random()}` });
    const got: string[] = [];
    client.on('message', (topic, payload, packet) => {
      if (packet.retain) got.push(`${topic}=${payload.toString()}`);
    });
    await client.subscribeAsync(filters, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.endAsync();
    return got.sort();
  }

  it('gives an exact topic its newest message, and nothing for a cleared or unknown one', async () => {
    expect(
      await retainedFor([
        'stopsign/v1/stop/A/arrivals',
        'stopsign/v1/stop/C/announcement',
        'stopsign/v1/stop/Z/arrivals',
      ]),
    ).toEqual(['stopsign/v1/stop/A/arrivals=new']);
  });

  it('finds them by wildcard too, and serves a mix of both', async () => {
    expect(await retainedFor(['stopsign/v1/stop/+/arrivals'])).toEqual([
      'stopsign/v1/stop/A/arrivals=new',
      'stopsign/v1/stop/B/arrivals=b',
    ]);
    expect(await retainedFor(['stopsign/v1/device/#', 'stopsign/v1/stop/B/arrivals'])).toEqual([
      'stopsign/v1/device/k1/config=k1',
      'stopsign/v1/stop/B/arrivals=b',
    ]);
  });

  it('forgets a topic once an empty retained message clears it', async () => {
    await publisher.publishAsync('stopsign/v1/stop/B/arrivals', '', { qos: 1, retain: true });
    expect(await retainedFor(['stopsign/v1/stop/B/arrivals'])).toEqual([]);
    expect(await retainedFor(['stopsign/v1/stop/#'])).toEqual(['stopsign/v1/stop/A/arrivals=new']);
  });
});
