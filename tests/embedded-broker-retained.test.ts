/**
 * The embedded broker's retained messages, looked up by exact topic for the
 * filters signs use, still behave as MQTT says: the newest per topic, gone
 * after an empty retained publish, found by wildcard filters too, and
 * delivered to a subscriber that mixes both kinds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBrokerAccess } from '../manager/broker/embeddedAccess';
import { DEFAULT_BROKER_LIMITS } from '../manager/broker/brokerLimits';
import { EmbeddedBroker } from '../manager/broker/embeddedBroker';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { quietLogger } from './helpers/system';

const MANAGER = { username: 'stopsign-manager', password: 'manager secret' };
const OBSERVER_PASSWORD = 'observer secret';

describe('embedded broker, retained messages', () => {
  let dir: string;
  let store: SharedStore;
  let broker: EmbeddedBroker;
  let url: string;
  let publisher: MqttClient;

  beforeAll(async () => {
    // Behind the same access control as in the manager: the manager publishes, observers read.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-retained-'));
    store = await openSharedStore({ engine: 'sqlite', file: path.join(dir, 'manager.db') });
    const access = new EmbeddedBrokerAccess({
      manager: MANAGER,
      observerPassword: OBSERVER_PASSWORD,
      signCredentials: store.signCredentials,
      signs: store.signs,
      logger: quietLogger,
    });
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      logger: quietLogger,
      access,
      limits: DEFAULT_BROKER_LIMITS,
      trustedClientIds: [MANAGER.username],
    });
    url = `mqtt://127.0.0.1:${await broker.start()}`;
    publisher = await mqtt.connectAsync(url, { clientId: MANAGER.username, ...MANAGER });
    const retain = (topic: string, payload: string) =>
      publisher.publishAsync(topic, payload, { qos: 1, retain: true });
    await retain('stopsign/v2/stop/A/arrivals', 'old');
    await retain('stopsign/v2/stop/A/arrivals', 'new');
    await retain('stopsign/v2/stop/B/arrivals', 'b');
    await retain('stopsign/v2/stop/C/announcement', 'c');
    await retain('stopsign/v2/stop/C/announcement', '');
    await retain('stopsign/v2/device/k1/config', 'k1');
  });

  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What a new subscriber to `filters` gets right after subscribing. */
  async function retainedFor(filters: string[]): Promise<string[]> {
    const name = `observer:sub-${Math.random()}`;
    const client = await mqtt.connectAsync(url, {
      clientId: name,
      username: name,
      password: OBSERVER_PASSWORD,
    });
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
        'stopsign/v2/stop/A/arrivals',
        'stopsign/v2/stop/C/announcement',
        'stopsign/v2/stop/Z/arrivals',
      ]),
    ).toEqual(['stopsign/v2/stop/A/arrivals=new']);
  });

  it('finds them by wildcard too, and serves a mix of both', async () => {
    expect(await retainedFor(['stopsign/v2/stop/+/arrivals'])).toEqual([
      'stopsign/v2/stop/A/arrivals=new',
      'stopsign/v2/stop/B/arrivals=b',
    ]);
    expect(await retainedFor(['stopsign/v2/device/#', 'stopsign/v2/stop/B/arrivals'])).toEqual([
      'stopsign/v2/device/k1/config=k1',
      'stopsign/v2/stop/B/arrivals=b',
    ]);
  });

  it('forgets a topic once an empty retained message clears it', async () => {
    await publisher.publishAsync('stopsign/v2/stop/B/arrivals', '', { qos: 1, retain: true });
    expect(await retainedFor(['stopsign/v2/stop/B/arrivals'])).toEqual([]);
    expect(await retainedFor(['stopsign/v2/stop/#'])).toEqual(['stopsign/v2/stop/A/arrivals=new']);
  });
});
