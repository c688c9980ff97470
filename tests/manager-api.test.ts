/** The manager's HTTP API and fleet MQTT boundary, against its real embedded broker and SQLite file. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMessage, topics } from '../shared';
import { STOP_CENTRAL, STOP_MARKET, zipGtfs, tinyGtfsFiles } from './helpers/gtfsFixture';
import { waitFor } from './helpers/deviceFixtures';
import {
  claimFor,
  signMqttOptions,
  startTestManager,
  type RunningManager,
  type SignCredentials,
} from './helpers/system';

interface Health {
  brokerConnected: boolean;
  rejectedMessages: Record<string, number>;
  schedule: { stopTimes: number; source: string } | null;
}

describe('manager API', () => {
  let dir: string;
  let manager: RunningManager;
  let kiosk: SignCredentials;
  const health = async (): Promise<Health> => manager.api.json<Health>('/api/health');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-api-'));
    manager = await startTestManager(dir);
  });

  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the console page', async () => {
    const res = await manager.api.as(undefined).get('/');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Fleet console');
  });

  it('registers a sign and lists it as never seen', async () => {
    const res = await manager.api.post('/api/signs', { deviceId: 'kiosk-7', stopId: STOP_MARKET });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { claim: { claim: string } };
    kiosk = await claimFor(manager, created.claim.claim);
    const signs = await manager.api.json<Array<Record<string, unknown>>>('/api/signs');
    expect(signs).toContainEqual(
      expect.objectContaining({
        deviceId: 'kiosk-7',
        stopId: STOP_MARKET,
        online: false,
        lastSeenAt: null,
      }),
    );
  });

  it('rejects bad registrations with the reason', async () => {
    const badId = await manager.api.post('/api/signs', {
      deviceId: 'has space',
      stopId: STOP_CENTRAL,
    });
    expect(badId.status).toBe(400);
    expect(((await badId.json()) as { detail: string }).detail).toMatch(/deviceId/);
    const unknownStop = await manager.api.post('/api/signs', { deviceId: 'x1', stopId: 'NOPE' });
    expect(unknownStop.status).toBe(422);
    expect(((await unknownStop.json()) as { error: string }).error).toMatch(/NOPE/);
  });

  it('refuses announcements without a registered target or without text', async () => {
    const noSign = await manager.api.post('/api/announcements', {
      target: { deviceId: 'ghost' },
      text: { en: 'hello' },
    });
    expect(noSign.status).toBe(404);
    const empty = await manager.api.post('/api/announcements', {
      target: { stopId: STOP_MARKET },
      text: { en: '  ' },
    });
    expect(empty.status).toBe(400);
  });

  it('keeps the previous timetable when an upload is broken', async () => {
    const before = await health();
    expect(before.schedule?.stopTimes).toBeGreaterThan(0);
    const broken = await manager.api.post(
      '/api/gtfs',
      Buffer.from('PK\u0003\u0004 definitely not a whole zip'),
    );
    expect(broken.status).toBe(422);
    expect(((await broken.json()) as { error: string }).error).toMatch(/zip/i);

    const files = tinyGtfsFiles();
    delete files['stop_times.txt'];
    const missing = await manager.api.post('/api/gtfs', Buffer.from(zipGtfs(files)));
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { error: string }).error).toMatch(/stop_times\.txt/);
    expect((await health()).schedule).toEqual(before.schedule);
  });

  it('counts malformed fleet messages and keeps serving', async () => {
    // A sign with a bug: its own topics, any rubbish.
    const client = await mqtt.connectAsync(manager.brokerUrl, signMqttOptions(kiosk));
    const statusTopic = topics.deviceStatus('kiosk-7');
    const valid = JSON.parse(
      encodeMessage('deviceStatus', {
        deviceId: 'kiosk-7',
        state: 'online',
        firmware: '1',
        mode: 'live',
        startedAt: 1,
      }),
    ) as Record<string, unknown>;
    await client.publishAsync(statusTopic, '{not json', { qos: 1 });
    await client.publishAsync(statusTopic, JSON.stringify({ ...valid, v: 1 }), { qos: 1 });
    await client.publishAsync(
      statusTopic,
      JSON.stringify({ ...valid, data: { state: 'on fire' } }),
      {
        qos: 1,
      },
    );
    await client.publishAsync(topics.deviceFrame('kiosk-7'), '[]', { qos: 1 });
    // Over the status topic's limit: the embedded broker refuses it and hangs up on the vandal,
    // so it never reaches the manager.
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(statusTopic, Buffer.alloc(20_000, 0x20), { qos: 1 });
    await closed;
    await client.endAsync(true);

    let rejected: Record<string, number> = {};
    await waitFor('four rejections counted', async () => {
      rejected = (await health()).rejectedMessages;
      return Object.values(rejected).reduce((a, b) => a + b, 0) >= 4;
    });
    expect(rejected).toMatchObject({
      'deviceStatus:not-json': 1,
      'deviceStatus:bad-version': 1,
      'deviceStatus:invalid': 1,
      'deviceFrame:invalid': 1,
    });
    expect(rejected['deviceStatus:oversized']).toBeUndefined();
    const signs =
      await manager.api.json<Array<{ deviceId: string; lastSeenAt: unknown }>>('/api/signs');
    // Nothing of the rubbish was taken as a sign of life.
    expect(signs.find((s) => s.deviceId === 'kiosk-7')?.lastSeenAt).toBeNull();
  });

  it('marks a sign offline when its connection dies (last will)', async () => {
    const status = (state: 'online' | 'offline') =>
      encodeMessage('deviceStatus', {
        deviceId: 'kiosk-7',
        state,
        firmware: '1',
        mode: 'live',
        startedAt: 1,
      });
    const client = await mqtt.connectAsync(manager.brokerUrl, {
      ...signMqttOptions(kiosk),
      will: {
        topic: topics.deviceStatus('kiosk-7'),
        payload: Buffer.from(status('offline')),
        qos: 1,
        retain: true,
      },
    });
    await client.publishAsync(topics.deviceStatus('kiosk-7'), status('online'), {
      qos: 1,
      retain: true,
    });
    const online = async () =>
      (await manager.api.json<Array<{ deviceId: string; online: boolean }>>('/api/signs')).find(
        (s) => s.deviceId === 'kiosk-7',
      )?.online;
    const until = (want: boolean) =>
      waitFor(`sign ${want ? 'online' : 'offline'}`, async () => (await online()) === want);
    await until(true);
    // Destroying the socket without DISCONNECT is what a power cut looks like to the broker.
    client.stream.destroy();
    await until(false);
    client.end(true);
  });
});
