/**
 * Realtime through the whole manager: feeds pushed over HTTP, boards and the
 * heartbeat on a real MQTT broker, GET /api/realtime and the arrivals a stop's
 * signs were sent. Bad feeds must give the timetable, a reason, and no crash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  replayClock,
  topics,
  type ArrivalsData,
  type ManagerHeartbeatData,
} from '../shared';
import { loadManagerConfig } from '../manager/config';
import { Manager, type ManagerEndpoints } from '../manager/manager';
import type { FeedReport } from '../manager/realtime/realtimeService';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, tinyGtfsZip } from './helpers/gtfsFixture';
import { encodeFeed, haveRealFeeds, realFile } from './helpers/realtimeFeeds';
import type { ManagerApi } from '../manager/cli/managerApi';
import {
  adminApiFor,
  observerMqttOptions,
  quietLogger,
  testSecurityConfig,
} from './helpers/system';

/** Monday 2025-06-16, 06:21 in Hong Kong: nothing leaves Central for the next nine minutes. */
const START = Date.UTC(2025, 5, 15, 22, 21, 0);
const NOW = START / 1000;

const tripUpdate = (timestamp: number, delay = 240) =>
  encodeFeed({
    header: { gtfsRealtimeVersion: '2.0', incrementality: 0, timestamp },
    entity: [
      {
        id: 'e1',
        tripUpdate: {
          trip: { tripId: 'R1-0625', startDate: '20250616' },
          stopTimeUpdate: [{ stopSequence: 1, departure: { delay } }],
        },
      },
    ],
  });

describe('realtime in the manager', () => {
  let dir: string;
  let manager: Manager;
  let endpoints: ManagerEndpoints;
  let client: MqttClient;
  let clock: () => number;
  let api: ManagerApi;
  const arrivals: ArrivalsData[] = [];
  const heartbeats: ManagerHeartbeatData[] = [];

  const push = (body: Uint8Array, kind = 'tripUpdates') =>
    api.request('POST', `/api/realtime?kind=${kind}`, Buffer.from(body), {
      'content-type': 'application/x-protobuf',
    });
  const report = async (): Promise<FeedReport> => {
    const res = await api.get('/api/realtime');
    return ((await res.json()) as { feeds: FeedReport[] }).feeds[0]!;
  };
  const sent = async (): Promise<ArrivalsData> => {
    const res = await api.get(`/api/stops/${STOP_CENTRAL}/arrivals`);
    expect(res.status).toBe(200);
    return (await res.json()) as ArrivalsData;
  };
  const central0625 = (data: ArrivalsData) => data.arrivals.find((a) => a.tripId === 'R1-0625');

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-rt-manager-'));
    const gtfsPath = path.join(dir, 'tiny.zip');
    fs.writeFileSync(gtfsPath, tinyGtfsZip());
    clock = replayClock(START);
    const config = loadManagerConfig(
      {},
      {
        httpPort: 0,
        brokerPort: 0,
        dataDir: path.join(dir, 'manager'),
        gtfsPath,
        publishIntervalSeconds: 1,
        realtimePollSeconds: 1,
        ...testSecurityConfig(),
      },
    );
    manager = new Manager(config, quietLogger, clock);
    endpoints = await manager.start();
    api = await adminApiFor(config, endpoints);
    expect((await api.post('/api/signs', { deviceId: 's1', stopId: STOP_CENTRAL })).status).toBe(
      201,
    );
    client = await mqtt.connectAsync(endpoints.brokerUrl, observerMqttOptions('watcher'));
    client.on('message', (topic, payload) => {
      if (topic === topics.stopArrivals(STOP_CENTRAL)) {
        const m = decodeMessage('stopArrivals', payload, STOP_CENTRAL);
        if (m.ok) arrivals.push(m.message.data);
      } else if (topic === topics.managerHeartbeat()) {
        const m = decodeMessage('managerHeartbeat', payload);
        if (m.ok) heartbeats.push(m.message.data);
      }
    });
    await client.subscribeAsync([topics.stopArrivals(STOP_CENTRAL), topics.managerHeartbeat()]);
    await waitFor('the timetable board', () => arrivals.length > 0);
  }, 30_000);

  afterAll(async () => {
    await api?.close();
    await client?.endAsync(true);
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a live board from a pushed feed, retained, and serves what it sent', async () => {
    expect((await report()).reason).toBe('no feed received: boards show the timetable');
    const res = await push(tripUpdate(NOW - 5));
    expect(res.status).toBe(202);
    await waitFor('a live row', () => arrivals.some((a) => central0625(a)?.source === 'live'));
    const last = await sent();
    expect(central0625(last)).toMatchObject({ source: 'live', delay: 240 });
    expect(last.feedTimestamp).toBe(NOW - 5);
    expect(last).toEqual(arrivals.at(-1));
    await waitFor('a heartbeat vouching for the feed', () =>
      heartbeats.some((h) => h.live && h.feedTimestamp === NOW - 5),
    );
    expect(await report()).toMatchObject({ live: true, tripsMatched: 1, reason: null });
  });

  it('sends nothing when the same feed comes again: the board did not change', async () => {
    const before = arrivals.length;
    const beats = heartbeats.length;
    expect((await push(tripUpdate(NOW - 5))).status).toBe(202);
    await waitFor('two more heartbeats', () => heartbeats.length >= beats + 2, 5_000);
    expect(arrivals.length).toBe(before);
  });

  it('keeps the last good feed and says why when a body is truncated or random', async () => {
    const before = arrivals.length;
    const good = tripUpdate(NOW - 5);
    for (const [body, reason] of [
      [good.subarray(0, good.length - 3), /not a GTFS-realtime feed/],
      [
        Uint8Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 256),
        /not a GTFS-realtime feed/,
      ],
      [new Uint8Array(0), /empty body/],
    ] as const) {
      const res = await push(body);
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: string }).error).toMatch(reason);
      expect((await report()).lastError).toMatch(reason);
    }
    expect(central0625(await sent())?.source).toBe('live');
    expect(arrivals.length).toBe(before);
    expect((await api.get('/api/health')).status).toBe(200);
  });

  it('takes a feed whose header is an hour old as stale: timetable on every board, and says so', async () => {
    expect((await push(tripUpdate(NOW - 3600, 600))).status).toBe(202);
    await waitFor('the board back on the timetable', () => {
      const last = arrivals.at(-1);
      return last !== undefined && last.arrivals.every((a) => a.source === 'scheduled');
    });
    expect((await sent()).feedTimestamp).toBeUndefined();
    expect((await report()).reason).toMatch(/^stale: header is 3\d{3} s old/);
    await waitFor(
      'a heartbeat saying the feed is not live',
      () => heartbeats.at(-1)?.live === false,
    );
    expect(heartbeats.at(-1)?.feedTimestamp).toBe(NOW - 3600);
  });

  it('takes the empty header-only feed as "nothing is live", not as everything on time', async () => {
    const bytes = haveRealFeeds
      ? fs.readFileSync(realFile('gtfs-rt', 'empty-header-only.pb'))
      : encodeFeed({ header: { gtfsRealtimeVersion: '1.0', timestamp: 1699405546 } });
    // First a live feed again, then a fresh empty one: every trip left the FULL_DATASET.
    await push(tripUpdate(Math.floor(clock() / 1000) - 5));
    await waitFor('live again', () => central0625(arrivals.at(-1)!)?.source === 'live');
    const empty = encodeFeed({
      header: { gtfsRealtimeVersion: '2.0', timestamp: Math.floor(clock() / 1000) - 5 },
    });
    expect((await push(empty)).status).toBe(202);
    await waitFor('scheduled again', () =>
      arrivals.at(-1)!.arrivals.every((a) => a.source === 'scheduled'),
    );
    expect((await report()).reason).toBe(
      'the feed has no trip updates: every board shows the timetable',
    );
    // The recorded empty feed is from 2023: stale as well as empty.
    expect((await push(bytes)).status).toBe(202);
    expect((await report()).reason).toMatch(/^stale/);
    expect(arrivals.at(-1)!.arrivals.every((a) => a.source === 'scheduled')).toBe(true);
  });

  it('refuses a body that is not protobuf, and a bad kind', async () => {
    const json = await api.post('/api/realtime', { hello: 1 });
    expect(json.status).toBe(415);
    expect((await push(tripUpdate(NOW), 'everything')).status).toBe(400);
    expect((await api.get('/api/stops/NOPE/arrivals')).status).toBe(404);
  });
});
