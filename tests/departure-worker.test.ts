/**
 * The departures query thread: answers equal to the query on the caller's
 * thread, the manager's event loop free while a heavy slice is worked out,
 * a bounded queue, a thread that dies or overruns replaced for the next
 * query, and a new feed picked up once it is committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DepartureWorker } from '../manager/gtfs/departureWorker';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { TimetableSchedule } from '../manager/gtfs/timetableSchedule';
import { STOP_CENTRAL, TINY_TIMEZONE, tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import { haveRealFeeds, realFile, warnIfNoRealFeeds } from './helpers/realtimeFeeds';
import { SYNTHETIC_HUB, SYNTHETIC_ZONE, writeSyntheticCity } from './helpers/syntheticFeeds';

warnIfNoRealFeeds('departures query thread on real feeds');

interface Timetable {
  dir: string;
  db: Database.Database;
  store: GtfsStore;
  close(): void;
}

/** A timetable file as the manager keeps it (WAL), with `zip` imported on this connection. */
async function timetableOf(zip: string | Uint8Array): Promise<Timetable> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-departures-'));
  const db = new Database(path.join(dir, 'timetable.db'));
  db.pragma('journal_mode = WAL');
  const store = new GtfsStore(db);
  store.init();
  await store.importZip(zip, 'test');
  return {
    dir,
    db,
    store,
    close() {
      if (db.open) db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const at = (local: string, zone: string) => DateTime.fromISO(local, { zone }).toSeconds();

describe.skipIf(!haveRealFeeds)('answers on real feeds', () => {
  for (const { zip, dates, everyNth } of [
    { zip: 'caltrain-2023.zip', dates: ['2023-11-07T05:00', '2023-11-11T12:00'], everyNth: 1 },
    { zip: 'halifax-2025.zip', dates: ['2025-11-06T16:00', '2025-11-08T23:30'], everyNth: 7 },
  ]) {
    it(`equal the query on the caller's thread at every sampled stop of ${zip}`, async () => {
      const timetable = await timetableOf(realFile('gtfs', zip));
      const worker = new DepartureWorker({ dbPath: timetable.db.name });
      try {
        await worker.start();
        const zone = timetable.store.timezone()!;
        const stops = timetable.db
          .prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops ORDER BY stop_id')
          .all()
          .filter((_, i) => i % everyNth === 0);
        let rows = 0;
        for (const date of dates) {
          const from = at(date, zone);
          for (const { stop_id } of stops) {
            const expected = timetable.store.departures(stop_id, from, from + 30 * 3600, 5000);
            expect(await worker.departures(stop_id, from, from + 30 * 3600, 5000)).toEqual(
              expected,
            );
            rows += expected.length;
          }
        }
        // Not a vacuous comparison: the stops have a day's departures between them.
        expect(rows).toBeGreaterThan(1000);
      } finally {
        await worker.stop();
        timetable.close();
      }
    }, 180_000);
  }
});

describe('on a generated city', () => {
  let city: Timetable;
  const now = at('2026-03-04T12:00', SYNTHETIC_ZONE);
  const hubSlice = (worker: DepartureWorker) =>
    worker.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000);

  beforeAll(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-city-'));
    const zip = path.join(dir, 'city.zip');
    // 6,000 trips a day leave the hub: its 30-hour slice is a full 5,000-row message.
    writeSyntheticCity(zip, 240_000);
    city = await timetableOf(zip);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
  afterAll(() => city?.close());

  it('works out a heavy slice while the event loop keeps turning', async () => {
    const worker = new DepartureWorker({ dbPath: city.db.name });
    await worker.start();
    try {
      const expected = city.store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000);
      expect(expected).toHaveLength(5000);
      // Turns of the loop while each query is outstanding; on the caller's thread there are none.
      let turns = 0;
      let spinning = true;
      const spin = () => {
        turns += 1;
        if (spinning) setImmediate(spin);
      };
      const turnsDuring: number[] = [];
      for (let i = 0; i < 5; i++) {
        const before = turns;
        setImmediate(spin);
        spinning = true;
        const answer = await hubSlice(worker);
        spinning = false;
        turnsDuring.push(turns - before);
        expect(answer).toEqual(expected);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const onCallerThread = turns;
      city.store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000);
      expect(turns).toBe(onCallerThread);
      expect(Math.min(...turnsDuring)).toBeGreaterThan(3);
    } finally {
      await worker.stop();
    }
  });

  it('refuses queries past the queue cap with a clear error, and answers the rest', async () => {
    const worker = new DepartureWorker({ dbPath: city.db.name, maxQueued: 2 });
    await worker.start();
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => hubSlice(worker)));
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'rejected',
        'rejected',
      ]);
      for (const outcome of outcomes) {
        if (outcome.status === 'fulfilled') expect(outcome.value).toHaveLength(5000);
        else {
          expect(outcome.reason).toMatchObject({
            name: 'DepartureQueueFullError',
            message: 'too many departures queries waiting (2); try again shortly',
          });
        }
      }
      // The queue drained: the next query is taken again.
      expect(await hubSlice(worker)).toHaveLength(5000);
    } finally {
      await worker.stop();
    }
  });

  it('fails the query of a thread that dies, and starts another for the next', async () => {
    const threads: Worker[] = [];
    const worker = new DepartureWorker({
      dbPath: city.db.name,
      onThreadStarted: (thread) => threads.push(thread),
    });
    await worker.start();
    try {
      const lost = hubSlice(worker);
      void threads[0]!.terminate();
      await expect(lost).rejects.toThrow(
        /the departures query thread stopped \(exit code 1\) before answering/,
      );
      const expected = city.store.departures(SYNTHETIC_HUB, now, now + 30 * 3600, 5000);
      expect(await hubSlice(worker)).toEqual(expected);
      expect(threads).toHaveLength(2);
    } finally {
      await worker.stop();
    }
  });

  it('abandons a query past its deadline and answers the next on a fresh thread', async () => {
    const threads: Worker[] = [];
    const worker = new DepartureWorker({
      dbPath: city.db.name,
      timeoutMs: 2,
      onThreadStarted: (thread) => threads.push(thread),
    });
    await worker.start();
    try {
      await expect(hubSlice(worker)).rejects.toThrow(
        `departures query for stop ${SYNTHETIC_HUB} took longer than 2 ms and was abandoned`,
      );
      const exited = new Promise((resolve) => threads[0]!.once('exit', resolve));
      await exited;
      // A small question fits the deadline; it is asked on a new thread.
      await worker.departures('S1', now, now + 60, 1).catch(() => undefined);
      expect(threads).toHaveLength(2);
    } finally {
      await worker.stop();
    }
  });

  it('answers with the manager’s own connection closed: the thread has its own', async () => {
    const worker = new DepartureWorker({ dbPath: city.db.name });
    await worker.start();
    const expected = city.store.departures('S7', now, now + 3 * 3600, 8);
    city.db.close();
    try {
      expect(expected.length).toBeGreaterThan(0);
      expect(await worker.departures('S7', now, now + 3 * 3600, 8)).toEqual(expected);
    } finally {
      await worker.stop();
    }
  });
});

describe('after a new feed is committed', () => {
  it('answers from the new feed once told, zone and all', async () => {
    const timetable = await timetableOf(zipGtfs(tinyGtfsFiles()));
    const worker = new DepartureWorker({ dbPath: timetable.db.name });
    await worker.start();
    const schedule = new TimetableSchedule(timetable.store, worker);
    try {
      const from = at('2025-06-11T08:00', TINY_TIMEZONE);
      const before = await schedule.departures(STOP_CENTRAL, from, from + 12 * 3600);
      expect(before).toEqual(timetable.store.departures(STOP_CENTRAL, from, from + 12 * 3600));
      expect(before.length).toBeGreaterThan(0);

      // The next feed counts its times in another zone and names its trips differently.
      const files = tinyGtfsFiles();
      files['agency.txt'] = files['agency.txt']!.replace('Asia/Hong_Kong', 'Europe/Lisbon');
      files['trips.txt'] = files['trips.txt']!.replaceAll('University', 'Campus');
      // Committed by another connection, as the import process does.
      const importer = new Database(timetable.db.name);
      const other = new GtfsStore(importer);
      other.init();
      await other.importZip(zipGtfs(files), 'next');
      importer.close();

      schedule.reload();
      const after = await schedule.departures(STOP_CENTRAL, from, from + 12 * 3600);
      expect(after).toEqual(timetable.store.departures(STOP_CENTRAL, from, from + 12 * 3600));
      expect(after).not.toEqual(before);
      expect(after.some((d) => d.headsign.en === 'Campus')).toBe(true);
      expect(timetable.store.timezone()).toBe('Europe/Lisbon');
    } finally {
      await worker.stop();
      timetable.close();
    }
  });
});
