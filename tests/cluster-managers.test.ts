/**
 * Two manager processes, one fleet: both on one Mosquitto (TLS, dynamic
 * security, each manager its own account) and one PostgreSQL, configured by
 * environment alone, both polling one GTFS-realtime feed. Signs are created
 * through either manager and provisioned by their claims. They
 * split what the signs send (MQTT 5 shared subscription) and what goes to the
 * signs (stops and announcement topics by rendezvous hashing, claimed per
 * round in the store). Boards go out only when they change: each change of
 * every stop's board is sent once, by one manager, and no announcement is
 * sent twice; when one is killed with SIGKILL the other takes the whole fleet
 * within its lease.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagerApi } from '../manager/cli/managerApi';
import { decodeMessage, parseTopic, TOPIC_ROOT, topics } from '../shared';
import { dynsecConfig, type BrokerAccount } from '../scripts/lib/dynsecFile';
import { MosquittoBroker } from '../scripts/lib/mosquitto';
import type { FleetSimulator } from '../scripts/fleet/fleetSimulator';
import {
  adminApi,
  claimedFleet,
  externalBrokerEnv,
  fleetTls,
  managerAccount,
  provisionByClaim,
  securedManagerEnv,
} from '../scripts/fleet/fleetSecurity';
import { ManagerProcess } from '../scripts/fleet/managerProcess';
import { waitFor } from './helpers/deviceFixtures';
import { tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import { encodeFeed } from './helpers/realtimeFeeds';
import { PostgresServer } from './helpers/postgres';

const LEASE_SECONDS = 3;
const STOPS = [
  'CEN',
  'HBF',
  'MKT',
  'UNI',
  'NPT',
  'AIR',
  ...Array.from({ length: 18 }, (_, i) => `X${i + 10}`),
];

/** The tiny feed with 18 more stops, so two managers have enough to split. */
function feedWith24Stops(): Uint8Array {
  const files = tinyGtfsFiles();
  const extra = STOPS.slice(6).map((id, i) => `${id},Extra ${i},22.3,114.${10 + i},0`);
  files['stops.txt'] = `${files['stops.txt']?.trimEnd()}\n${extra.join('\n')}\n`;
  return zipGtfs(files);
}

interface Seen {
  topic: string;
  kind: string;
  id: string;
  manager: string | undefined;
  at: number;
  /** Arrivals: 'live' or 'scheduled'; announcements: the announcement id ('' for a clear); manager status: its state. */
  detail: string | number;
}

/** A TripUpdates feed with only its header: fresh, it turns every board live; an hour old, not. */
function headerOnlyFeed(timestamp: number): Uint8Array {
  return encodeFeed({
    header: { gtfsRealtimeVersion: '2.0', incrementality: 'FULL_DATASET', timestamp },
    entity: [],
  });
}

interface Health {
  received: { statuses: number; frames: number };
  cluster: { mode: string; memberId: string; members: string[]; stopsLastPass: number };
}

const tls = fleetTls();
const accounts = new Map<string, BrokerAccount>([
  ['a', managerAccount(0)],
  ['b', managerAccount(1)],
]);
/** The test's own MQTT 5 client: reads every protocol topic. */
const watcherAccount: BrokerAccount = { username: 'watcher', password: 'watcher secret' };

describe('two managers sharing one fleet', () => {
  let dir: string;
  let pg: PostgresServer;
  let broker: MosquittoBroker;
  let watcher: MqttClient;
  let fleet: FleetSimulator;
  let feedServer: http.Server;
  /** What the feed URL answers; undefined: 404, as before an agency publishes anything. */
  let feed: Uint8Array | undefined;
  const managers = new Map<string, ManagerProcess>();
  const apis = new Map<string, ManagerApi>();
  const seen: Seen[] = [];

  const api = (id: string): ManagerApi => {
    const found = apis.get(id);
    if (!found) throw new Error(`manager ${id} was not started`);
    return found;
  };

  const health = async (id: string): Promise<Health> =>
    (await (await api(id).get('/api/health')).json()) as Health;

  const manager = (id: string): ManagerProcess => {
    const found = managers.get(id);
    if (!found) throw new Error(`manager ${id} was not started`);
    return found;
  };

  const startManager = async (
    id: string,
    databaseUrl: string,
    gtfsPath: string,
    feedUrl: string,
  ) => {
    const env = {
      ...securedManagerEnv(tls),
      ...externalBrokerEnv(broker.url, accounts.get(id) as BrokerAccount, tls),
      STOPSIGN_DATABASE_URL: databaseUrl,
      STOPSIGN_MANAGER_ID: id,
      STOPSIGN_MEMBER_LEASE_SECONDS: String(LEASE_SECONDS),
      STOPSIGN_MANAGER_DATA_DIR: path.join(dir, id),
      STOPSIGN_GTFS_PATH: gtfsPath,
      STOPSIGN_HTTP_PORT: '0',
      STOPSIGN_PUBLISH_INTERVAL_SECONDS: '1',
      STOPSIGN_FEED_POLL_SECONDS: '1',
      STOPSIGN_REALTIME_POLL_SECONDS: '1',
      // The feed answers 404 until a case serves one: keep the back-off short so it is seen at once.
      STOPSIGN_REALTIME_MAX_BACKOFF_SECONDS: '5',
      STOPSIGN_REALTIME_TRIP_UPDATES_URL: feedUrl,
    };
    const started = await ManagerProcess.start(env);
    managers.set(id, started);
    apis.set(id, await adminApi(env, started.httpUrl, tls));
    return started;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-cluster-'));
    pg = await PostgresServer.start();
    const dynsecFile = path.join(dir, 'dynsec.json');
    fs.writeFileSync(
      dynsecFile,
      dynsecConfig([...accounts.values()], { readers: [watcherAccount] }),
    );
    broker = await MosquittoBroker.start({ dir, tls, dynsecFile });
    const databaseUrl = await pg.createDatabase();
    const gtfsPath = path.join(dir, 'feed.zip');
    fs.writeFileSync(gtfsPath, feedWith24Stops());
    feedServer = http.createServer((_req, res) => {
      if (!feed) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(feed);
    });
    await new Promise<void>((resolve) => feedServer.listen(0, '127.0.0.1', resolve));
    const feedUrl = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/trips.pb`;

    // A watcher on MQTT 5 sees the user property naming the manager that sent each message.
    watcher = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      clientId: 'watcher',
      ...watcherAccount,
      ca: tls.caPem,
    });
    watcher.on('message', (topic, payload, packet) => {
      const parsed = parseTopic(topic);
      if (!parsed) return;
      const manager = packet.properties?.userProperties?.manager;
      let detail: string | number = '';
      if (parsed.kind === 'stopArrivals') {
        const m = decodeMessage('stopArrivals', payload);
        if (m.ok) detail = m.message.data.feedTimestamp === undefined ? 'scheduled' : 'live';
      } else if (
        parsed.kind === 'stopAnnouncement' ||
        parsed.kind === 'deviceAnnouncement' ||
        parsed.kind === 'cityAnnouncement'
      ) {
        const m = payload.length === 0 ? undefined : decodeMessage(parsed.kind, payload);
        detail = m?.ok ? m.message.data.announcementId : '';
      } else if (parsed.kind === 'managerHeartbeat') {
        const m = decodeMessage('managerHeartbeat', payload);
        if (m.ok) detail = m.message.data.checkedAt;
      } else if (parsed.kind === 'managerStatus') {
        const m = decodeMessage('managerStatus', payload);
        if (m.ok) detail = m.message.data.state;
      }
      seen.push({
        topic,
        kind: parsed.kind,
        id: parsed.id,
        manager: typeof manager === 'string' ? manager : undefined,
        at: Date.now(),
        detail,
      });
    });
    await watcher.subscribeAsync(
      [
        `${TOPIC_ROOT}/stop/+/arrivals`,
        `${TOPIC_ROOT}/stop/+/announcement`,
        topics.cityAnnouncement(),
        `${TOPIC_ROOT}/manager/status`,
        `${TOPIC_ROOT}/manager/heartbeat`,
      ],
      { qos: 1 },
    );

    // a imports the feed and records it; b builds its timetable from the store.
    await startManager('a', databaseUrl, gtfsPath, feedUrl);
    await startManager('b', databaseUrl, gtfsPath, feedUrl);
    // Half the signs created and claimed through a, half through b: each drives Mosquitto's dynsec.
    const identities = STOPS.map((stopId, i) => ({ deviceId: `sign-${i}`, stopId }));
    const credentials = {
      ...(await provisionByClaim(
        api('a'),
        identities.filter((_, i) => i % 2 === 0),
      )),
      ...(await provisionByClaim(
        api('b'),
        identities.filter((_, i) => i % 2 === 1),
      )),
    };
    fleet = claimedFleet({
      brokerUrl: broker.url,
      identities,
      credentials,
      tls,
      rampPerSecond: 50,
      timing: { staleAfterSeconds: 5 },
    });
    await fleet.start();
    await waitFor('every sign live', () => fleet.counts().live === STOPS.length, 60_000, 100);
  }, 180_000);

  afterAll(async () => {
    await fleet?.stop();
    await watcher?.endAsync();
    await Promise.all([...apis.values()].map((a) => a.close()));
    await Promise.all([...managers.values()].map((m) => m.stop()));
    await broker?.kill();
    await pg?.stop();
    await new Promise((resolve) => feedServer?.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /**
   * Serves `next` as the feed, waits until every stop's board says `state`,
   * then a little longer for any second copy, and returns the boards sent meanwhile.
   */
  async function boardsAfterFeed(next: Uint8Array, state: 'live' | 'scheduled'): Promise<Seen[]> {
    const from = Date.now();
    feed = next;
    const sent = () => seen.filter((s) => s.kind === 'stopArrivals' && s.at >= from);
    await waitFor(
      `every board ${state}`,
      () =>
        new Set(
          sent()
            .filter((s) => s.detail === state)
            .map((s) => s.id),
        ).size === STOPS.length,
      20_000,
      100,
    );
    // Both managers poll every second and pass over their stops every second: room for doubles.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    return sent();
  }

  /**
   * Waits until no board has gone out for a while: when a member joins, the stops it now holds are
   * sent afresh by it (a hand-over), and those copies must not be counted as the next change's.
   */
  async function boardsSettled(): Promise<void> {
    const quietMs = 2_500;
    await waitFor(
      'the boards settling after a hand-over',
      () => {
        const last = seen.filter((s) => s.kind === 'stopArrivals').at(-1)?.at ?? 0;
        return Date.now() - last >= quietMs;
      },
      30_000,
      100,
    );
  }

  /** Each stop's board went out exactly once, saying `state`; returns stop id → its sender. */
  function sentOncePerStop(boards: Seen[], state: string): Map<string, string> {
    const senders = new Map<string, string>();
    for (const stopId of STOPS) {
      const copies = boards.filter((s) => s.id === stopId);
      expect(copies.map((s) => `${stopId} ${s.detail}`)).toEqual([`${stopId} ${state}`]);
      senders.set(stopId, copies[0]?.manager ?? '?');
    }
    return senders;
  }

  it('splits the stops and the signs’ messages between both', async () => {
    await waitFor(
      'both members seeing each other',
      async () =>
        (await health('a')).cluster.members.length === 2 &&
        (await health('b')).cluster.members.length === 2,
      20_000,
      200,
    );
    await boardsSettled();
    const from = Date.now();
    // The feed turns every board live: one change per stop, sent by whichever manager holds it.
    const senders = sentOncePerStop(
      await boardsAfterFeed(headerOnlyFeed(Math.floor(Date.now() / 1000)), 'live'),
      'live',
    );
    expect([...new Set(senders.values())].sort()).toEqual(['a', 'b']);
    // What the signs send is split too: both recorded statuses.
    const [ha, hb] = [await health('a'), await health('b')];
    expect(ha.received.statuses).toBeGreaterThan(0);
    expect(hb.received.statuses).toBeGreaterThan(0);
    expect(ha.cluster).toMatchObject({ mode: 'shared', memberId: 'a', members: ['a', 'b'] });
    // The heartbeat is one fleet-wide message: one manager sends it, not both.
    const heartbeats = seen.filter((s) => s.kind === 'managerHeartbeat' && s.at >= from);
    expect(heartbeats.length).toBeGreaterThanOrEqual(3);
    expect(new Set(heartbeats.map((s) => s.manager)).size).toBe(1);
  }, 60_000);

  it('sends each announcement and each withdrawal once, whichever manager was asked', async () => {
    const posted: { id: string; stopId: string }[] = [];
    for (const [i, stopId] of STOPS.slice(0, 12).entries()) {
      const res = await api(i % 2 ? 'a' : 'b').post('/api/announcements', {
        target: { stopId },
        text: { en: `Notice ${i}` },
        priority: i === 0 ? 'emergency' : 'info',
      });
      expect(res.status).toBe(201);
      posted.push({
        id: ((await res.json()) as { announcementId: string }).announcementId,
        stopId,
      });
    }
    const withdrawn = posted.slice(0, 4);
    for (const [i, p] of withdrawn.entries()) {
      const res = await api(i % 2 ? 'b' : 'a').request('DELETE', `/api/announcements/${p.id}`);
      expect(res.status).toBe(200);
    }
    // Several publishing rounds of both managers pass over them meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const announcements = seen.filter((s) => s.kind === 'stopAnnouncement');
    for (const p of posted) {
      expect(announcements.filter((s) => s.detail === p.id)).toHaveLength(1);
    }
    for (const p of withdrawn) {
      expect(announcements.filter((s) => s.id === p.stopId && s.detail === '')).toHaveLength(1);
    }
  }, 60_000);

  it('sends a city-wide announcement and a district’s once per topic, and each withdrawal once', async () => {
    const district = STOPS.slice(12, 20);
    const post = async (via: 'a' | 'b', target: unknown, en: string) => {
      const res = await api(via).post('/api/announcements', {
        target,
        text: { en },
        priority: 'emergency',
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { announcementId: string }).announcementId;
    };
    const city = await post('a', { city: true }, 'Storm: all service suspended');
    const set = await post('b', { stopIds: district }, 'District closed');
    expect((await api('b').request('DELETE', `/api/announcements/${city}`)).status).toBe(200);
    expect((await api('a').request('DELETE', `/api/announcements/${set}`)).status).toBe(200);
    // Several publishing rounds of both managers pass over them meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const onCity = seen.filter((s) => s.kind === 'cityAnnouncement').map((s) => s.detail);
    expect(onCity).toEqual([city, '']);
    for (const stopId of district) {
      const onStop = seen.filter((s) => s.kind === 'stopAnnouncement' && s.id === stopId);
      expect(onStop.map((s) => s.detail)).toEqual([set, '']);
    }
  }, 60_000);

  it('sends each change of a stop’s board once, from one manager, never both', async () => {
    // The feed goes stale (an hour old), then fresh again: two more changes of every board.
    const stale = await boardsAfterFeed(
      headerOnlyFeed(Math.floor(Date.now() / 1000) - 3600),
      'scheduled',
    );
    const staleSenders = sentOncePerStop(stale, 'scheduled');
    const fresh = await boardsAfterFeed(headerOnlyFeed(Math.floor(Date.now() / 1000)), 'live');
    // Membership has not changed, so each stop stays with the same manager.
    expect(sentOncePerStop(fresh, 'live')).toEqual(staleSenders);
  }, 60_000);

  it('hands the whole fleet to the survivor within the lease when one is killed', async () => {
    const announcementsBefore = seen.filter((s) => s.kind === 'stopAnnouncement').length;
    const statusesBefore = (await health('b')).received.statuses;
    const killedAt = Date.now();
    await manager('a').kill('SIGKILL');

    // b sees a gone once a's membership lapses, then publishes every stop itself.
    await waitFor(
      'b alone',
      async () => (await health('b')).cluster.members.join() === 'b',
      (LEASE_SECONDS + 5) * 1000,
      100,
    );
    // Boards are retained: b sends the stops that were a's (b never sent them this board); its own
    // stand as they are.
    const lastSender = new Map<string, string | undefined>();
    for (const s of seen)
      if (s.kind === 'stopArrivals' && s.at < killedAt) lastSender.set(s.id, s.manager);
    const stopsOfA = STOPS.filter((id) => lastSender.get(id) === 'a');
    expect(stopsOfA.length).toBeGreaterThan(0);
    await waitFor(
      'every stop of a published by b after the kill',
      () => {
        const stops = new Set(
          seen
            .filter((s) => s.kind === 'stopArrivals' && s.manager === 'b' && s.at > killedAt)
            .map((s) => s.id),
        );
        return stopsOfA.every((id) => stops.has(id));
      },
      5_000,
      100,
    );
    const takeoverMs = Date.now() - killedAt;
    // Lease, one renewal period to notice, one publishing round, and room for a loaded machine.
    expect(takeoverMs).toBeLessThan((LEASE_SECONDS + LEASE_SECONDS / 3 + 1 + 4) * 1000);

    // a's last will said offline; b says online again, so signs stay live.
    const statuses = seen.filter((s) => s.kind === 'managerStatus' && s.at > killedAt);
    expect(statuses.map((s) => s.detail)).toContain('offline');
    expect(statuses.at(-1)?.detail).toBe('online');
    await waitFor('every sign live again', () => fleet.counts().live === STOPS.length, 10_000);
    // Every sign's status now reaches b, and nothing already sent was sent again.
    await waitFor(
      'b hearing every sign',
      async () => (await health('b')).received.statuses >= statusesBefore + STOPS.length,
      10_000,
      200,
    );
    expect(seen.filter((s) => s.kind === 'stopAnnouncement')).toHaveLength(announcementsBefore);
  }, 60_000);
});
