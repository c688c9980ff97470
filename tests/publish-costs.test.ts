/**
 * What the manager sends, and how often it reads the store, stays in
 * proportion: a new sign at a served stop costs its config only, and one
 * announcement costs one message and a fixed number of store queries however
 * many others are active. Counted on a real broker and a real store, not timed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TOPIC_ROOT, type StoredTarget } from '../shared';
import { DepartureWorker } from '../manager/gtfs/departureWorker';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { TimetableSchedule } from '../manager/gtfs/timetableSchedule';
import { FleetLink } from '../manager/link/fleetLink';
import { StopPublisher } from '../manager/publish/stopPublisher';
import { ArrivalBoards, DEFAULT_BOARD_OPTIONS } from '../manager/realtime/arrivalBoards';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, STOP_MARKET, tinyGtfsZip } from './helpers/gtfsFixture';
import { quietLogger } from './helpers/system';

/** Long enough for a message the manager sent to reach the subscriber on loopback. */
const SETTLE_MS = 300;

describe('publishing costs', () => {
  let dir: string;
  let broker: TestBroker;
  let timetable: Database.Database;
  let store: SharedStore;
  let link: FleetLink;
  let publisher: StopPublisher;
  let departures: DepartureWorker | undefined;
  let watcher: MqttClient;
  let queries = 0;
  const sent = new Map<string, number>();
  let sequence = 0;

  /** Messages by topic kind since the last reset, e.g. { config: 1 }. */
  const sentSoFar = (): Record<string, number> => Object.fromEntries(sent);
  /** Topics cleared (an empty retained message) since the last reset. */
  const cleared: string[] = [];
  const reset = (): void => {
    sent.clear();
    cleared.length = 0;
    queries = 0;
  };
  const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const now = () => Math.floor(Date.now() / 1000);

  const register = async (deviceId: string, stopId: string) => {
    const sign = await store.signs.register(deviceId, stopId, undefined, now());
    await publisher.signChanged(sign);
  };

  const announce = async (target: StoredTarget) => {
    const id = `a-${++sequence}`;
    await store.announcements.add({
      announcementId: id,
      target,
      text: { en: `notice ${sequence}` },
      priority: 'info',
      expiresAt: now() + 3600,
      createdAt: now(),
    });
    return id;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-costs-'));
    broker = await startBroker();
    timetable = new Database(path.join(dir, 'timetable.db'));
    timetable.pragma('journal_mode = WAL');
    const timetableStore = new GtfsStore(timetable);
    timetableStore.init();
    await timetableStore.importZip(tinyGtfsZip(), 'tiny');
    departures = new DepartureWorker({ dbPath: timetable.name });
    await departures.start();
    const schedule = new TimetableSchedule(timetableStore, departures);
    store = await openSharedStore(
      { engine: 'sqlite', file: path.join(dir, 'manager.db') },
      { onQuery: () => (queries += 1) },
    );
    link = new FleetLink({
      url: broker.url,
      username: 'costs-manager',
      password: 'unused: the test broker lets anyone in',
      version: 'test',
      startedAt: now(),
      logger: quietLogger,
    });
    await link.start();
    publisher = new StopPublisher({
      link,
      schedule,
      signs: store.signs,
      announcements: store.announcements,
      clock: Date.now,
      logger: quietLogger,
      publishIntervalSeconds: 3600,
      // The timetable alone: no realtime feed behind these boards.
      boards: new ArrivalBoards(schedule, () => ({ predictions: null, vehicles: new Map() }), {
        ...DEFAULT_BOARD_OPTIONS,
        arrivalsPerStop: 8,
        windowMinutes: 180,
      }),
      scheduleHorizonHours: 30,
    });
    publisher.start();
    await publisher.enqueue(async () => undefined);

    watcher = await mqtt.connectAsync(broker.url, { clientId: 'costs-watcher' });
    watcher.on('message', (topic, payload) => {
      if (payload.length === 0) cleared.push(topic);
      const kind = topic.split('/').at(-1) ?? topic;
      sent.set(kind, (sent.get(kind) ?? 0) + 1);
    });
    await watcher.subscribeAsync(
      [`${TOPIC_ROOT}/device/#`, `${TOPIC_ROOT}/stop/#`, `${TOPIC_ROOT}/city/#`],
      { qos: 1 },
    );
  });

  beforeEach(async () => {
    await settle();
    reset();
  });

  afterAll(async () => {
    await watcher?.endAsync();
    await publisher?.stop();
    await link?.stop();
    await store?.close();
    await departures?.stop();
    timetable?.close();
    await broker?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sends a stop its slice and arrivals once, for its first sign', async () => {
    await register('first', STOP_CENTRAL);
    await waitFor('config, slice and arrivals', () => sent.size === 3);
    await settle();
    expect(sentSoFar()).toEqual({ config: 1, schedule: 1, arrivals: 1 });
  });

  it('sends a second sign at a served stop its config and nothing else', async () => {
    await register('second', STOP_CENTRAL);
    await waitFor('its config', () => sent.has('config'));
    await settle();
    expect(sentSoFar()).toEqual({ config: 1 });
  });

  it('sends a sign moved to another served stop its new config only', async () => {
    await register('third', STOP_MARKET);
    await waitFor('the new stop supplied', () => sent.size === 3);
    await settle();
    reset();
    await register('second', STOP_MARKET);
    await waitFor('its config', () => sent.has('config'));
    await settle();
    expect(sentSoFar()).toEqual({ config: 1 });
  });

  /** Posts one announcement at a sign with `others` active elsewhere; returns messages and queries. */
  const postOneWith = async (others: number) => {
    for (let i = 0; i < others; i++) await announce({ deviceId: `other-${others}-${i}` });
    await publisher.announcementsChanged();
    await settle();
    reset();
    const target = { deviceId: 'first' };
    await announce(target);
    await publisher.announcementsChanged(target);
    await waitFor('the announcement', () => sent.has('announcement'));
    await settle();
    return { sent: sentSoFar(), queries };
  };

  it('posts one announcement with one message and the same store reads at 10 and 200 active', async () => {
    const few = await postOneWith(10);
    const many = await postOneWith(190);
    expect((await store.announcements.active(now())).length).toBeGreaterThanOrEqual(202);
    expect(few.sent).toEqual({ announcement: 1 });
    expect(many.sent).toEqual({ announcement: 1 });
    // The add, then one read of that target's active ones.
    expect(few.queries).toBe(2);
    expect(many.queries).toBe(few.queries);
  });

  it('makes a pass over 200 active announcements that changed nothing with no message and one read', async () => {
    await publisher.announcementsChanged();
    await settle();
    expect(sentSoFar()).toEqual({});
    expect(queries).toBe(1);
  });

  it('withdraws one with one message on its topic: the next one there, or a clear', async () => {
    const target = { stopId: STOP_CENTRAL };
    const older = await announce(target);
    await publisher.announcementsChanged(target);
    const newer = await announce(target);
    await publisher.announcementsChanged(target);
    await settle();
    reset();
    await store.announcements.withdraw(newer);
    await publisher.announcementsChanged(target);
    await waitFor('the older one back', () => sent.has('announcement'));
    await settle();
    expect(sentSoFar()).toEqual({ announcement: 1 });
    reset();
    await store.announcements.withdraw(older);
    await publisher.announcementsChanged(target);
    await waitFor('the topic cleared', () => sent.has('announcement'));
    await settle();
    expect(sentSoFar()).toEqual({ announcement: 1 });
  });

  /** Posts one announcement to `target`; returns messages and store queries, then withdraws it. */
  const postOnce = async (target: StoredTarget) => {
    await settle();
    reset();
    const id = await announce(target);
    await publisher.announcementsChanged(target);
    await settle();
    const cost = { sent: sentSoFar(), queries };
    await store.announcements.withdraw(id);
    await publisher.announcementsChanged(target);
    return cost;
  };
  const district = (size: number) => ({
    stopIds: Array.from({ length: size }, (_, i) => `D${size}-${i}`),
  });

  it('posts to a district with one message per stop and the same store work at 3 and 300 stops', async () => {
    const few = await postOnce(district(3));
    const many = await postOnce(district(300));
    expect(few.sent).toEqual({ announcement: 3 });
    expect(many.sent).toEqual({ announcement: 300 });
    // The add (its stops in one transaction), then one read of what shares a stop, one of their stops.
    expect(many.queries).toBe(few.queries);
  });

  it('posts to the whole city with one message however many stops and signs there are', async () => {
    const cost = await postOnce({ city: true });
    expect(cost.sent).toEqual({ announcement: 1 });
    expect(cost.queries).toBe(2);
  });

  it('clears exactly the stops of a district when it expires, in the next pass', async () => {
    const target = { stopIds: ['EXP-1', 'EXP-2'] };
    await store.announcements.add({
      announcementId: 'expiring',
      target,
      text: { en: 'Gone in a moment' },
      priority: 'warning',
      expiresAt: now() + 1,
      createdAt: now(),
    });
    await publisher.announcementsChanged(target);
    await waitFor('sent to both stops', () => sent.get('announcement') === 2);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await settle();
    reset();
    await publisher.announcementsChanged();
    await waitFor('both cleared', () => cleared.length === 2);
    await settle();
    expect(sentSoFar()).toEqual({ announcement: 2 });
    expect(cleared.sort()).toEqual(
      target.stopIds.map((id) => `${TOPIC_ROOT}/stop/${id}/announcement`),
    );
  });
});
