/**
 * Imports the real agency feeds kept beside the project (../shared/data/gtfs)
 * and checks counts and departures against values worked out independently
 * from the CSV files. Skipped when the data directory is not there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScheduledDeparture } from '../shared';
import { GtfsStore } from '../manager/gtfs/gtfsStore';

const FEEDS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'shared',
  'data',
  'gtfs',
);
const haveFeeds = fs.existsSync(FEEDS_DIR);
if (!haveFeeds) {
  console.warn(
    `GTFS real-feed tests skipped: ${FEEDS_DIR} not found (see ../shared/data/README.md)`,
  );
}

/** Imports one feed into a fresh SQLite file for the suite that declares it. */
function useFeed(file: string): () => GtfsStore {
  let dir = '';
  let db: Database.Database | undefined;
  let store: GtfsStore | undefined;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-gtfs-real-'));
    db = new Database(path.join(dir, 'manager.db'));
    db.pragma('journal_mode = WAL');
    store = new GtfsStore(db);
    store.init();
    await store.importZip(path.join(FEEDS_DIR, file), file);
  }, 120_000);
  afterAll(() => {
    db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    if (!store) throw new Error(`${file} was not imported`);
    return store;
  };
}

function at(local: string, zone: string): number {
  return DateTime.fromISO(local, { zone }).toSeconds();
}

function board(departures: ScheduledDeparture[], zone: string): string[] {
  return departures.map(
    (d) => `${DateTime.fromSeconds(d.time, { zone }).toFormat('HH:mm')} ${d.route} ${d.tripId}`,
  );
}

describe.skipIf(!haveFeeds)('real feed: GTFS reference sample (Demo Transit Authority)', () => {
  const zone = 'America/Los_Angeles';
  const store = useFeed('demo-transit-sample.zip');

  it('imports the listed counts', () => {
    expect(store().summary()).toMatchObject({
      routes: 5,
      stops: 9,
      trips: 11,
      stopTimes: 28,
      serviceStart: '20070101',
      serviceEnd: '20101231',
      warnings: [],
    });
  });

  it('lists weekend and daily trips, not the ones ending at the airport', () => {
    const saturday = store().departures(
      'BEATTY_AIRPORT',
      at('2008-06-07T07:00', zone),
      at('2008-06-07T17:00', zone),
    );
    expect(board(saturday, zone)).toEqual(['08:00 10 AB1', '08:00 50 AAMV1', '13:00 50 AAMV3']);
  });

  it('repeats frequency-based trips and honours the removed date', () => {
    const morning = (date: string) =>
      store().departures('STAGECOACH', at(`${date}T06:00`, zone), at(`${date}T07:00`, zone));
    expect(board(morning('2008-06-04'), zone)).toEqual([
      '06:00 30 STBA',
      '06:00 40 CITY1',
      '06:30 30 STBA',
      '06:30 40 CITY1',
    ]);
    expect(morning('2007-06-04')).toEqual([]);
  });
});

describe.skipIf(!haveFeeds)('real feed: Caltrain 2023', () => {
  const zone = 'America/Los_Angeles';
  const store = useFeed('caltrain-2023.zip');

  it('imports the listed counts', () => {
    expect(store().summary()).toMatchObject({
      routes: 9,
      stops: 109,
      trips: 176,
      stopTimes: 3498,
      serviceStart: '20230923',
      serviceEnd: '20240601',
    });
    expect(store().stop('70012')).toMatchObject({ timezone: zone });
  });

  it('answers for a station from its platforms, weekday and holiday service', () => {
    const evening = (date: string) =>
      store().departures('san_francisco', at(`${date}T17:00`, zone), at(`${date}T19:00`, zone));
    const tuesday = evening('2023-11-07');
    expect(tuesday).toHaveLength(8);
    expect(tuesday[0]).toEqual({
      tripId: '710',
      routeId: 'B7',
      route: 'B7',
      headsign: { en: 'San Jose Diridon' },
      time: at('2023-11-07T17:04', zone),
    });
    // Thanksgiving runs the weekend timetable (calendar_dates.txt swaps the services).
    expect(evening('2023-11-23').map((d) => d.tripId)).toEqual(['260', '264']);
  });
});

describe.skipIf(!haveFeeds)('real feed: Halifax Transit 2025', () => {
  const zone = 'America/Halifax';
  const store = useFeed('halifax-2025.zip');

  it('imports the listed counts', () => {
    expect(store().summary()).toMatchObject({
      agencies: 1,
      routes: 80,
      stops: 2386,
      trips: 9472,
      stopTimes: 328_499,
      serviceStart: '20250825',
      serviceEnd: '20251116',
      warnings: [],
    });
  });

  it('lists two evening hours at Barrington St', () => {
    const from = at('2025-11-06T17:00', zone);
    const departures = store().departures('6121', from, from + 7200);
    expect(departures).toHaveLength(104);
    expect(departures.slice(0, 3).map((d) => d.tripId)).toEqual(['3795222', '3797504', '3786608']);
    expect(departures.at(-1)?.tripId).toBe('3786145');
    expect(departures[0]).toMatchObject({
      route: '7B',
      headsign: { en: '7B SCOTIA SQUARE VIA ROBIE' },
      time: at('2025-11-06T17:00:11', zone),
    });
    expect(store().departures('6121', from, from + 7200, 5)).toEqual(departures.slice(0, 5));
  });

  it('places trips past midnight correctly on the night clocks go back', () => {
    // 00:00 to 03:00 by the wall clock is four hours, as 02:00 comes twice.
    const night = store().departures(
      '6121',
      at('2025-11-02T00:00', zone),
      at('2025-11-02T03:00', zone),
    );
    expect(night).toHaveLength(9);
    expect(night[0]?.tripId).toBe('3786015');
  });
});
