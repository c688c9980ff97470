/**
 * The fleet simulator's signs follow the device protocol on the wire: each its
 * own persistent session and last will, retained QoS 1 statuses, messages
 * queued while away delivered on return, reconnects spread by jittered
 * back-off after a mass drop. It connects to loopback only and refuses
 * fleets larger than one process holds.
 */
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, TOPIC_ROOT, topics } from '../shared';
import { fleetIdentities, boardingStops } from '../scripts/fleet/feedStops';
import { FleetSimulator, MAX_SIGNS_PER_PROCESS } from '../scripts/fleet/fleetSimulator';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { TINY_GTFS_DIR, tinyGtfsZip } from './helpers/gtfsFixture';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const logger = pino({ level: 'silent' });

describe('fleet simulator', () => {
  let broker: TestBroker;
  let watcher: MqttClient;
  let fleet: FleetSimulator;
  const sessions = new Map<string, { clean: boolean; will: string | undefined }>();
  const statuses: { deviceId: string; state: string; qos: number; at: number }[] = [];
  const connects: { id: string; at: number }[] = [];

  beforeAll(async () => {
    broker = await startBroker();
    broker.broker.on('client', (client) => {
      const raw = client as unknown as { clean: boolean; will?: { topic: string } };
      sessions.set(client.id, { clean: raw.clean, will: raw.will?.topic });
      connects.push({ id: client.id, at: Date.now() });
    });
    watcher = await mqtt.connectAsync(broker.url, { clientId: 'watcher' });
    watcher.on('message', (topic, payload, packet) => {
      const body = JSON.parse(payload.toString()) as { data: { deviceId: string; state: string } };
      statuses.push({ ...body.data, qos: packet.qos, at: Date.now() });
    });
    await watcher.subscribeAsync(`${TOPIC_ROOT}/device/+/status`, { qos: 1 });
    fleet = new FleetSimulator({
      brokerUrl: broker.url,
      identities: fleetIdentities(20, ['CEN', 'MKT']),
      rampPerSecond: 100,
      logger,
      timing: { statusIntervalMs: 60_000, reconnectMinMs: 300, reconnectMaxMs: 3_000 },
    });
    await fleet.start();
    await waitFor('20 signs connected', () => fleet.counts().connected === 20, 20_000);
    // A manager's config puts each sign at its stop.
    for (const sign of fleet.signs) {
      watcher.publish(
        topics.deviceConfig(sign.deviceId),
        encodeMessage('deviceConfig', {
          deviceId: sign.deviceId,
          stopId: 'CEN',
          timezone: 'Asia/Hong_Kong',
        }),
        { qos: 1, retain: true },
      );
    }
    await waitFor('20 signs configured', () => fleet.counts().configured === 20, 10_000);
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await watcher?.endAsync();
    await broker?.close();
  });

  it('connects each sign under its own id with a persistent session and a last will', () => {
    expect(sessions.size).toBe(21);
    for (const sign of fleet.signs) {
      expect(sessions.get(sign.deviceId)).toEqual({
        clean: false,
        will: topics.deviceStatus(sign.deviceId),
      });
    }
    const online = statuses.filter((s) => s.state === 'online');
    expect(new Set(online.map((s) => s.deviceId)).size).toBe(20);
    expect(online.every((s) => s.qos === 1)).toBe(true);
  });

  it('leaves a fifth of the fleet to their wills when cut, and brings them back spread out', async () => {
    const cutAt = Date.now();
    expect(fleet.dropShare(0.2)).toBe(4);
    await waitFor(
      'four wills',
      () => statuses.filter((s) => s.state === 'offline' && s.at >= cutAt).length === 4,
      10_000,
    );
    await waitFor('all back', () => fleet.counts().connected === 20, 15_000);
    const returns = connects.filter((c) => c.at > cutAt).map((c) => c.at);
    expect(returns).toHaveLength(4);
    // Jittered: the four did not knock at the same moment.
    expect(Math.max(...returns) - Math.min(...returns)).toBeGreaterThan(5);
    // Back online, each says so again.
    await waitFor(
      'online again',
      () => statuses.filter((s) => s.state === 'online' && s.at > cutAt).length >= 4,
      10_000,
    );
  });

  it('gets what was sent while it was away, from its persistent session', async () => {
    const sign = fleet.signs[0];
    if (!sign) throw new Error('no sign');
    broker.refused.add(sign.deviceId);
    expect(broker.cut(sign.deviceId)).toBe(true);
    await waitFor('disconnected', () => !sign.connected, 5_000);
    // Not retained: only the session can keep it for the sign.
    await watcher.publishAsync(
      topics.deviceAnnouncement(sign.deviceId),
      encodeMessage('deviceAnnouncement', {
        announcementId: 'while-away',
        text: { en: 'Queued for you' },
        priority: 'warning',
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      }),
      { qos: 1 },
    );
    broker.refused.delete(sign.deviceId);
    await waitFor(
      'the queued announcement',
      () => sign.announcements.get('device') === 'while-away',
      15_000,
    );
  });

  it('takes its stops from a real feed and refuses other hosts and oversized fleets', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-feed-'));
    try {
      const zip = path.join(dir, 'tiny.zip');
      fs.writeFileSync(zip, tinyGtfsZip());
      const stops = boardingStops(zip);
      expect(stops).toHaveLength(
        fs.readFileSync(path.join(TINY_GTFS_DIR, 'stops.txt'), 'utf8').trim().split('\n').length -
          1,
      );
      const identities = fleetIdentities(8, stops);
      expect(identities[7]).toEqual({ deviceId: 'sim-00007', stopId: stops[1] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const base = { identities: [], rampPerSecond: 1, logger };
    expect(() => new FleetSimulator({ ...base, brokerUrl: 'mqtt://10.0.0.5:1883' })).toThrow(
      /loopback/,
    );
    expect(
      () =>
        new FleetSimulator({
          ...base,
          brokerUrl: 'mqtt://127.0.0.1:1883',
          identities: fleetIdentities(MAX_SIGNS_PER_PROCESS + 1, ['A']),
        }),
    ).toThrow(/more than one process/);
  });
});
