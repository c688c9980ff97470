/**
 * Realtime at city scale: the recorded Halifax TripUpdates (542 kB, 17,041
 * stop-time updates) for all 2,386 stops, through the manager's own parts
 * (decoder, prediction engine, boards, stop publisher, an aedes broker).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import pino from 'pino';
import { encodeMessage, topics } from '../shared';
import { DepartureWorker } from '../manager/gtfs/departureWorker';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { TimetableSchedule } from '../manager/gtfs/timetableSchedule';
import { FleetLink } from '../manager/link/fleetLink';
import { StopPublisher } from '../manager/publish/stopPublisher';
import { ArrivalBoards, DEFAULT_BOARD_OPTIONS } from '../manager/realtime/arrivalBoards';
import { decodeBare, decodeFeed } from '../manager/realtime/feedDecoder';
import { RealtimeService } from '../manager/realtime/realtimeService';
import { StaticLookup } from '../manager/realtime/staticLookup';
import { openSharedStore } from '../manager/store/sharedStore';
import { startBroker } from '../tests/helpers/deviceBroker';
import { decodeRaw, encodeRaw } from '../tests/helpers/realtimeFeeds';
import { printFigures, timePerCall, type Figure } from './measure';

/** ../shared/data beside the project, unless STOPSIGN_TEST_DATA says where the recorded feeds are. */
const DATA =
  process.env.STOPSIGN_TEST_DATA ?? path.resolve(import.meta.dirname, '../../shared/data');
const ZIP = path.join(DATA, 'gtfs/halifax-2025.zip');
const FEED = path.join(DATA, 'gtfs-rt/halifax-2025-trip-updates.pb');
const HEADER_TIME = Date.parse('2025-11-06T21:04:14Z') / 1000;
const POLL_SECONDS = 20;

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** The same feed with every prediction 2 min later: every board with a live row changes. */
function shifted(bytes: Uint8Array): Uint8Array {
  const raw = decodeRaw(bytes);
  for (const entity of raw.entity) {
    for (const stu of entity.tripUpdate?.stopTimeUpdate ?? []) {
      for (const event of [stu.arrival, stu.departure]) {
        if (event?.time) event.time += 120;
        if (event?.delay !== undefined) event.delay += 120;
      }
    }
  }
  return encodeRaw(raw);
}

export async function benchRealtime(): Promise<void> {
  if (!fs.existsSync(ZIP) || !fs.existsSync(FEED)) {
    console.log('\n(halifax-2025 feeds not found beside the project: realtime figures skipped)');
    return;
  }
  const logger = pino({ level: 'silent' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-rt-'));
  const db = new Database(path.join(dir, 'manager.db'));
  db.pragma('journal_mode = WAL');
  const timetable = new GtfsStore(db);
  timetable.init();
  await timetable.importZip(fs.readFileSync(ZIP), 'halifax');
  // Departures on their own thread, as the manager asks them.
  const departures = new DepartureWorker({ dbPath: db.name });
  await departures.start();
  const schedule = new TimetableSchedule(timetable, departures);
  const lookup = new StaticLookup(db);
  lookup.init();
  const clock = { ms: HEADER_TIME * 1000 };
  const service = new RealtimeService({
    lookup,
    timezone: () => schedule.timezone(),
    clock: () => clock.ms,
    logger,
    staleAfterSeconds: 90,
  });
  const boards = new ArrivalBoards(schedule, () => service.view(), {
    ...DEFAULT_BOARD_OPTIONS,
    arrivalsPerStop: 8,
    windowMinutes: 180,
  });
  const store = await openSharedStore(
    { engine: 'sqlite', file: path.join(dir, 'store.db') },
    { logger },
  );
  const { signs, announcements } = store;
  const stopIds = db
    .prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops')
    .all()
    .map((r) => r.stop_id);
  for (const [i, stopId] of stopIds.entries()) {
    await signs.register(`sign-${i}`, stopId, undefined, HEADER_TIME);
  }

  // A bare aedes: what is measured is publishing, not access control (bench/connectBench.ts has that).
  const broker = await startBroker();
  const url = broker.url;
  const link = new FleetLink({
    url,
    username: 'bench-manager',
    password: 'the bench broker lets anyone in',
    version: 'bench',
    startedAt: HEADER_TIME,
    logger,
    clock: () => clock.ms,
  });
  await link.start();
  const publisher = new StopPublisher({
    link,
    schedule,
    signs,
    announcements,
    boards,
    clock: () => clock.ms,
    logger,
    publishIntervalSeconds: 3600,
    scheduleHorizonHours: 30,
  });
  // A fleet-wide subscriber counts what actually went out.
  const watcher = await mqtt.connectAsync(url, { clientId: 'bench-watcher' });
  let received = 0;
  watcher.on('message', () => {
    received += 1;
  });
  await watcher.subscribeAsync('stopsign/v2/stop/+/arrivals', { qos: 1 });
  /** Waits until the watcher has heard nothing new for 300 ms: every delivery of a run counted. */
  const settle = async () => {
    let last = -1;
    while (received !== last) {
      last = received;
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  const bytes = new Uint8Array(fs.readFileSync(FEED));
  const later = shifted(bytes);
  const figures: Figure[] = [];

  const bare = timePerCall(() => decodeBare(bytes), 20, 3);
  const decode = timePerCall(() => decodeFeed(bytes), 20, 3);
  figures.push({
    name: 'decode 542 kB TripUpdates to the manager model',
    value: decode,
    unit: 'ms',
    baseline: { name: 'bare protobuf decode', value: bare },
  });
  const ingest = timePerCall(() => service.ingest(bytes, 'bench', 'tripUpdates'), 10, 2);
  figures.push({
    name: 'ingest: decode + predictions for 510 trips',
    value: ingest,
    unit: 'ms',
    baseline: { name: 'bare protobuf decode', value: bare },
  });

  // First pass: every board read from the timetable and sent.
  let before = received;
  const cold = await timeAsync(() => publisher.publishArrivals());
  await settle();

  // Every stop changed: the shifted feed arrives, boards rebuilt, changed ones published.
  const runs = 4;
  let changedMs = 0;
  let changedMessages = 0;
  for (let i = 0; i < runs; i++) {
    before = received;
    const feed = i % 2 === 0 ? later : bytes;
    changedMs += await timeAsync(async () => {
      service.ingest(feed, 'bench', 'tripUpdates');
      await publisher.publishArrivals();
    });
    await settle();
    changedMessages = received - before;
  }
  // Nothing changed: the feed applied last comes again.
  before = received;
  const unchangedMs = await timeAsync(async () => {
    service.ingest(runs % 2 === 0 ? bytes : later, 'bench', 'tripUpdates');
    await publisher.publishArrivals();
  });
  await settle();
  const unchangedMessages = received - before;
  const naive = await timeAsync(async () => {
    await boards.prepare(stopIds, HEADER_TIME);
    for (const stopId of stopIds) {
      await link.publish(
        'stopArrivals',
        topics.stopArrivals(stopId),
        boards.build(stopId, HEADER_TIME),
        true,
      );
    }
  });
  figures.push(
    {
      name: `whole update, all ${stopIds.length} stops changed: arrival to last publish`,
      value: changedMs / runs,
      unit: 'ms',
      baseline: { name: 'build+publish every board blindly', value: naive },
    },
    {
      name: 'whole update, nothing changed (same feed again)',
      value: unchangedMs,
      unit: 'ms',
      baseline: { name: 'all changed', value: changedMs / runs },
    },
    { name: 'first pass (timetable windows read cold), all stops', value: cold, unit: 'ms' },
    {
      name: 'messages published when nothing changed',
      value: unchangedMessages,
      unit: 'msgs',
      baseline: { name: 'every stop changed', value: changedMessages },
    },
  );

  // A day at one sign: an hour of 20 s polls replayed on a sample of stops, the feed held
  // fresh, so boards change only as buses leave and the window moves; times 24.
  const sample = stopIds.filter((_, i) => i % 12 === 0);
  const simulated = new RealtimeService({
    lookup,
    timezone: () => schedule.timezone(),
    clock: () => clock.ms,
    logger,
    staleAfterSeconds: 86_400,
  });
  simulated.ingest(bytes, 'bench', 'tripUpdates');
  const dayBoards = new ArrivalBoards(schedule, () => simulated.view(), {
    ...DEFAULT_BOARD_OPTIONS,
    arrivalsPerStop: 8,
    windowMinutes: 180,
  });
  let changedBytes = 0;
  let everyPollBytes = 0;
  const polls = 3600 / POLL_SECONDS;
  for (let step = 0; step < polls; step++) {
    const now = HEADER_TIME + step * POLL_SECONDS;
    clock.ms = now * 1000;
    await dayBoards.prepare(sample, now);
    for (const stopId of sample) {
      const board = dayBoards.build(stopId, now);
      const size =
        Buffer.byteLength(encodeMessage('stopArrivals', board)) +
        topics.stopArrivals(stopId).length;
      everyPollBytes += size;
      if (dayBoards.changed(board)) {
        changedBytes += size;
        dayBoards.markSent(board);
      }
    }
  }
  const heartbeat =
    Buffer.byteLength(
      encodeMessage('managerHeartbeat', {
        checkedAt: HEADER_TIME,
        feedTimestamp: HEADER_TIME,
        live: true,
      }),
    ) + topics.managerHeartbeat().length;
  const perDay = (bytesPerHour: number) =>
    (bytesPerHour / sample.length) * 24 + heartbeat * polls * 24;
  figures.push({
    name: `bytes per sign per day at ${POLL_SECONDS} s polling (payload+topic, KiB)`,
    value: perDay(changedBytes) / 1024,
    unit: 'KiB',
    baseline: { name: 'board sent every poll', value: perDay(everyPollBytes) / 1024 },
  });

  await watcher.endAsync(true);
  await link.stop();
  await broker.close();
  await store.close();
  await departures.stop();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  printFigures(`Realtime (Halifax, ${stopIds.length} stops, 17,041 stop-time updates)`, figures);
}
