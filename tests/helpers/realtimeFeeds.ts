/**
 * GTFS-realtime test material: feeds built with the official bindings, the
 * recorded feeds kept beside the project, and a timetable store to match them to.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import bindings from 'gtfs-realtime-bindings';
import pino from 'pino';
import { DepartureWorker } from '../../manager/gtfs/departureWorker';
import { GtfsStore } from '../../manager/gtfs/gtfsStore';
import { TimetableSchedule } from '../../manager/gtfs/timetableSchedule';
import { ArrivalBoards, DEFAULT_BOARD_OPTIONS } from '../../manager/realtime/arrivalBoards';
import { RealtimeService } from '../../manager/realtime/realtimeService';
import { StaticLookup } from '../../manager/realtime/staticLookup';

const rt = bindings.transit_realtime;

/** Where the recorded feeds live: ../shared/data beside the project, unless the environment says. */
export const DATA_DIR =
  process.env.STOPSIGN_TEST_DATA ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data');

export const haveRealFeeds =
  fs.existsSync(path.join(DATA_DIR, 'gtfs')) && fs.existsSync(path.join(DATA_DIR, 'gtfs-rt'));

export function warnIfNoRealFeeds(suite: string): void {
  if (!haveRealFeeds) {
    console.warn(`${suite} skipped: ${DATA_DIR}/gtfs and gtfs-rt not found (see ../shared/data)`);
  }
}

export const realFile = (...parts: string[]): string => path.join(DATA_DIR, ...parts);

/** A FeedMessage from a plain object in the bindings' camelCase, encoded to bytes. */
export function encodeFeed(message: Record<string, unknown>): Uint8Array {
  return rt.FeedMessage.encode(rt.FeedMessage.fromObject(message)).finish();
}

/** Decodes with the bindings alone (not the manager's decoder): the tests' independent reading. */
export interface RawStopTimeEvent {
  time?: number;
  delay?: number;
}
export interface RawStopTimeUpdate {
  stopSequence?: number;
  stopId?: string;
  arrival?: RawStopTimeEvent;
  departure?: RawStopTimeEvent;
  scheduleRelationship?: string;
}
export interface RawTripUpdate {
  trip: {
    tripId?: string;
    routeId?: string;
    startDate?: string;
    startTime?: string;
    scheduleRelationship?: string;
  };
  stopTimeUpdate?: RawStopTimeUpdate[];
  timestamp?: number;
  delay?: number;
}
export interface RawFeed {
  header: { timestamp: number; incrementality?: string };
  entity: { id: string; tripUpdate?: RawTripUpdate; alert?: unknown; vehicle?: unknown }[];
}

export function decodeRaw(bytes: Uint8Array): RawFeed {
  return rt.FeedMessage.toObject(rt.FeedMessage.decode(bytes), {
    longs: Number,
    enums: String,
  }) as unknown as RawFeed;
}

export function encodeRaw(feed: RawFeed): Uint8Array {
  return encodeFeed(feed as unknown as Record<string, unknown>);
}

export interface RealtimeRig {
  store: GtfsStore;
  lookup: StaticLookup;
  service: RealtimeService;
  boards: ArrivalBoards;
  db: Database.Database;
  /** Epoch seconds the rig's clock shows; tests move it. */
  now: { seconds: number };
  /** Reads the timetable windows of these stops (all the feed's by default), as a publishing pass does. */
  prepare(stopIds?: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** A timetable imported into a temporary SQLite file, with realtime on a clock the test sets. */
export async function realtimeRig(
  zip: Uint8Array,
  now: number,
  arrivalsPerStop = 50,
): Promise<RealtimeRig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-rt-'));
  const db = new Database(path.join(dir, 'manager.db'));
  db.pragma('journal_mode = WAL');
  const store = new GtfsStore(db);
  store.init();
  await store.importZip(zip, 'test');
  const lookup = new StaticLookup(db);
  lookup.init();
  const clock = { seconds: now };
  const service = new RealtimeService({
    lookup,
    timezone: () => store.timezone(),
    clock: () => clock.seconds * 1000,
    logger: pino({ level: 'silent' }),
    staleAfterSeconds: 90,
  });
  const departures = new DepartureWorker({ dbPath: db.name });
  await departures.start();
  const boards = new ArrivalBoards(new TimetableSchedule(store, departures), () => service.view(), {
    ...DEFAULT_BOARD_OPTIONS,
    arrivalsPerStop,
    windowMinutes: 180,
  });
  return {
    store,
    lookup,
    service,
    boards,
    db,
    now: clock,
    async prepare(stopIds) {
      const all = db.prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops').all();
      const { failure } = await boards.prepare(
        stopIds ?? all.map((row) => row.stop_id),
        clock.seconds,
      );
      if (failure) throw failure;
    },
    async close() {
      await departures.stop();
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
