/**
 * The recorded agency feeds beside the project (../shared/data): with "now"
 * fixed at each realtime file's header time, every prediction on every board
 * must equal the one worked out here, independently, from the protobuf as the
 * official bindings decode it and from stop_times.txt read straight out of the
 * zip. Some rules are absent from the recordings (a gap between updates, time
 * and delay disagreeing); those are made by editing one real trip's update.
 * Skipped with a message when the data directory is not there.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { unzipSync, strFromU8 } from 'fflate';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arrival } from '../shared';
import {
  decodeRaw,
  encodeRaw,
  haveRealFeeds,
  realFile,
  realtimeRig,
  warnIfNoRealFeeds,
  type RawFeed,
  type RawTripUpdate,
  type RealtimeRig,
} from './helpers/realtimeFeeds';

warnIfNoRealFeeds('GTFS-realtime real-feed tests');

interface StopTime {
  stopId: string;
  seq: number;
  arrival: number;
  departure: number;
}

function seconds(text: string): number {
  const [h, m, s] = text.trim().split(':').map(Number) as [number, number, number];
  return h * 3600 + m * 60 + s;
}

/** stop_times.txt of the trips asked for, by trip, in stop order, read without the importer. */
function stopTimesOf(zipPath: string, tripIds: Set<string>): Map<string, StopTime[]> {
  const files = unzipSync(fs.readFileSync(zipPath), { filter: (f) => f.name === 'stop_times.txt' });
  const rows = parse<Record<string, string>>(strFromU8(files['stop_times.txt']!), {
    columns: true,
    bom: true,
    skip_empty_lines: true,
    trim: true,
  });
  const byTrip = new Map<string, StopTime[]>();
  for (const row of rows) {
    const tripId = row.trip_id!;
    if (!tripIds.has(tripId) || !row.departure_time) continue;
    const list = byTrip.get(tripId) ?? [];
    list.push({
      stopId: row.stop_id!,
      seq: Number(row.stop_sequence),
      arrival: seconds(row.arrival_time || row.departure_time),
      departure: seconds(row.departure_time),
    });
    byTrip.set(tripId, list);
  }
  for (const list of byTrip.values()) list.sort((a, b) => a.seq - b.seq);
  return byTrip;
}

/** GTFS's "noon minus 12 h" of a service date, via luxon rather than the manager's helper. */
function dayStart(date: string, zone: string): number {
  const noon = DateTime.fromFormat(`${date} 12:00`, 'yyyyMMdd HH:mm', { zone });
  return noon.toSeconds() - 12 * 3600;
}

type Expected = { source: 'live' | 'scheduled' | 'cancelled' | 'skipped'; time: number };

/** What the reference says of one stop of one trip, walking the updates from the start. */
function expectedAt(
  update: RawTripUpdate,
  stops: StopTime[],
  index: number,
  start: number,
): Expected {
  const scheduled = (i: number) => start + stops[i]!.departure;
  if (update.trip.scheduleRelationship === 'CANCELED') {
    return { source: 'cancelled', time: scheduled(index) };
  }
  let carried = update.delay;
  for (let i = 0; i <= index; i += 1) {
    const stu = update.stopTimeUpdate?.find((s) => s.stopSequence === stops[i]!.seq);
    const here = i === index;
    if (!stu) {
      if (here) {
        return carried === undefined
          ? { source: 'scheduled', time: scheduled(i) }
          : { source: 'live', time: scheduled(i) + carried };
      }
      continue;
    }
    if (stu.scheduleRelationship === 'SKIPPED') {
      if (here) return { source: 'skipped', time: scheduled(i) };
      continue;
    }
    if (stu.scheduleRelationship === 'NO_DATA') {
      carried = undefined;
      if (here) return { source: 'scheduled', time: scheduled(i) };
      continue;
    }
    let time: number | undefined;
    if (stu.departure?.time) time = stu.departure.time;
    else if (stu.arrival?.time) time = stu.arrival.time + (stops[i]!.departure - stops[i]!.arrival);
    if (time !== undefined) carried = time - scheduled(i);
    else carried = stu.departure?.delay ?? stu.arrival?.delay ?? 0;
    if (here) return { source: 'live', time: time ?? scheduled(i) + carried };
  }
  throw new Error('unreachable');
}

interface Agency {
  zip: string;
  rt: string;
  zone: string;
  /** Header time of the recording. */
  now: number;
}

const HALIFAX: Agency = {
  zip: 'halifax-2025.zip',
  rt: 'halifax-2025-trip-updates.pb',
  zone: 'America/Halifax',
  now: Date.parse('2025-11-06T21:04:14Z') / 1000,
};
const CALTRAIN: Agency = {
  zip: 'caltrain-2023.zip',
  rt: 'caltrain-2023-trip-updates.pb',
  zone: 'America/Los_Angeles',
  now: Date.parse('2023-11-08T01:05:34Z') / 1000,
};

const tripsMemo = new Map<RawFeed, ReturnType<typeof readTrips>>();

/** Every timetable trip of the feed, with its stop times and the run's day start (read once). */
function tripsOf(agency: Agency, feed: RawFeed) {
  let trips = tripsMemo.get(feed);
  if (!trips) {
    trips = readTrips(agency, feed);
    tripsMemo.set(feed, trips);
  }
  return trips;
}

function readTrips(agency: Agency, feed: RawFeed) {
  const updates = feed.entity.flatMap((e) => (e.tripUpdate?.trip.tripId ? [e.tripUpdate] : []));
  const stopTimes = stopTimesOf(
    realFile('gtfs', agency.zip),
    new Set(updates.map((u) => u.trip.tripId!)),
  );
  return updates.flatMap((update) => {
    const stops = stopTimes.get(update.trip.tripId!);
    const relationship = update.trip.scheduleRelationship ?? 'SCHEDULED';
    if (!stops || !['SCHEDULED', 'CANCELED'].includes(relationship)) return [];
    return [{ update, stops, start: dayStart(update.trip.startDate!, agency.zone) }];
  });
}

function boardRow(rig: RealtimeRig, stopId: string, tripId: string, scheduledTime: number) {
  return rig.boards
    .build(stopId, rig.now.seconds)
    .arrivals.find((a) => a.tripId === tripId && a.scheduledTime === scheduledTime);
}

/**
 * Every row of every stop the feed's timetable trips call at, against the
 * reference. Returns how many rows of each source were compared.
 */
function compareAllBoards(rig: RealtimeRig, agency: Agency, feed: RawFeed) {
  const trips = tripsOf(agency, feed);
  const expected = new Map<string, Expected>();
  const stopIds = new Set<string>();
  for (const { update, stops, start } of trips) {
    stops.forEach((stop, index) => {
      stopIds.add(stop.stopId);
      const key = `${update.trip.tripId}|${stop.stopId}|${start + stop.departure}`;
      // A producer that repeats a trip: the later entity wins, as it does in the manager.
      expected.set(key, expectedAt(update, stops, index, start));
    });
  }
  const counts = { live: 0, scheduled: 0, cancelled: 0, skippedAbsent: 0 };
  const mismatches: string[] = [];
  for (const stopId of stopIds) {
    const rows: Arrival[] = rig.boards.build(stopId, agency.now).arrivals;
    for (const row of rows) {
      const want = expected.get(`${row.tripId}|${stopId}|${row.scheduledTime}`);
      if (!want) continue;
      if (want.source === 'skipped' || want.source !== row.source || want.time !== row.time) {
        mismatches.push(
          `${stopId} ${row.tripId}: ${JSON.stringify(want)} vs ${row.source} ${row.time}`,
        );
      } else {
        counts[row.source] += 1;
      }
    }
  }
  for (const [key, want] of expected) {
    if (want.source !== 'skipped') continue;
    const [tripId, stopId, time] = key.split('|') as [string, string, string];
    if (boardRow(rig, stopId, tripId, Number(time))) mismatches.push(`${key} skipped but shown`);
    else counts.skippedAbsent += 1;
  }
  return { counts, mismatches };
}

/** Importing and matching a city's feed takes tens of seconds on a busy machine. */
const SLOW = 180_000;

describe.skipIf(!haveRealFeeds)('Halifax TripUpdates at 2025-11-06T21:04:14Z', () => {
  let rig: RealtimeRig;
  let raw: RawFeed;
  let bytes: Uint8Array;

  beforeAll(async () => {
    rig = await realtimeRig(fs.readFileSync(realFile('gtfs', HALIFAX.zip)), HALIFAX.now);
    // Every stop's timetable window, read as a publishing pass does before it builds boards.
    await rig.prepare();
    bytes = fs.readFileSync(realFile('gtfs-rt', HALIFAX.rt));
    raw = decodeRaw(bytes);
    expect(rig.service.ingest(bytes, 'test', 'tripUpdates').ok).toBe(true);
  }, SLOW);
  afterAll(() => rig?.close());

  it(
    'matches the reference on every board the feed touches: live, scheduled, cancelled, skipped',
    () => {
      const { counts, mismatches } = compareAllBoards(rig, HALIFAX, raw);
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(counts.live).toBeGreaterThan(1000);
      expect(counts.cancelled).toBeGreaterThan(0);
      expect(counts.skippedAbsent).toBeGreaterThan(0);
      console.info(`Halifax boards vs reference: ${JSON.stringify(counts)}`);
    },
    SLOW,
  );

  it(
    'shows the ADDED trips with their own times',
    async () => {
      const added = raw.entity.flatMap((e) =>
        e.tripUpdate?.trip.scheduleRelationship === 'ADDED' ? [e.tripUpdate] : [],
      );
      expect(added.length).toBe(5);
      // Added trips may call at stops the timetable does not have: their windows are empty.
      await rig.prepare(added.flatMap((u) => (u.stopTimeUpdate ?? []).map((stu) => stu.stopId!)));
      let checked = 0;
      for (const update of added) {
        for (const stu of update.stopTimeUpdate ?? []) {
          const time = stu.departure?.time ?? stu.arrival?.time;
          if (!time || stu.scheduleRelationship === 'SKIPPED') continue;
          if (time < HALIFAX.now - 30 || time >= HALIFAX.now + 3 * 3600) continue;
          const row = rig.boards
            .build(stu.stopId!, HALIFAX.now)
            .arrivals.find((a) => a.tripId === update.trip.tripId);
          expect(row, `${update.trip.tripId} at ${stu.stopId}`).toMatchObject({
            source: 'live',
            time,
          });
          checked += 1;
        }
      }
      expect(checked).toBeGreaterThan(10);
    },
    SLOW,
  );

  it(
    'propagates a delay over a stop without an update, and takes time over delay',
    () => {
      // A running trip with three timed updates in a row at stops still ahead.
      const trips = tripsOf(HALIFAX, raw);
      const pick = trips.find(({ update, stops, start }) => {
        const stus = update.stopTimeUpdate ?? [];
        const i = stus.findIndex((s) => (s.departure?.time ?? 0) > HALIFAX.now + 300);
        return (
          update.trip.scheduleRelationship !== 'CANCELED' &&
          i > 0 &&
          stus.length > i + 2 &&
          stops.some(
            (s) =>
              s.seq === stus[i + 1]!.stopSequence && start + s.departure < HALIFAX.now + 3 * 3600,
          )
        );
      })!;
      expect(pick).toBeDefined();
      const stus = pick.update.stopTimeUpdate!;
      const i = stus.findIndex((s) => (s.departure?.time ?? 0) > HALIFAX.now + 300);
      const [before, gap, after] = [stus[i]!, stus[i + 1]!, stus[i + 2]!];
      const edited = structuredClone(raw);
      const entity = edited.entity.find(
        (e) => e.tripUpdate?.trip.tripId === pick.update.trip.tripId,
      )!;
      const list = entity.tripUpdate!.stopTimeUpdate!;
      // Drop the middle update; make the first one's delay disagree with its time.
      list.splice(i + 1, 1);
      list[i]!.departure = {
        time: before.departure!.time!,
        delay: (before.departure!.delay ?? 0) + 777,
      };
      expect(rig.service.ingest(encodeRaw(edited), 'test', 'tripUpdates').ok).toBe(true);
      try {
        const at = (seq: number) => pick.stops.find((s) => s.seq === seq)!;
        const scheduled = (seq: number) => pick.start + at(seq).departure;
        const implied = before.departure!.time! - scheduled(before.stopSequence!);
        const row = (seq: number) =>
          boardRow(rig, at(seq).stopId, pick.update.trip.tripId!, scheduled(seq));
        expect(row(before.stopSequence!)).toMatchObject({
          source: 'live',
          time: before.departure!.time,
        });
        expect(row(gap.stopSequence!)).toMatchObject({
          source: 'live',
          time: scheduled(gap.stopSequence!) + implied,
          delay: implied,
        });
        // The next update has its own time again.
        const next = row(after.stopSequence!);
        if (next) expect(next.time).toBe(after.departure?.time ?? after.arrival?.time);
      } finally {
        rig.service.ingest(bytes, 'test', 'tripUpdates');
      }
    },
    SLOW,
  );

  it(
    'reads start_date: the same updates for another day leave today’s runs scheduled',
    () => {
      const edited = structuredClone(raw);
      for (const e of edited.entity) if (e.tripUpdate) e.tripUpdate.trip.startDate = '20251107';
      expect(rig.service.ingest(encodeRaw(edited), 'test', 'tripUpdates').ok).toBe(true);
      try {
        const rows = ['6121', '8699', '9003'].flatMap(
          (s) => rig.boards.build(s, HALIFAX.now).arrivals,
        );
        expect(rows.length).toBeGreaterThan(5);
        // Only ADDED trips (matched by their own times, not by date) may still be live.
        const added = new Set(
          raw.entity.flatMap((e) =>
            e.tripUpdate?.trip.scheduleRelationship === 'ADDED' ? [e.tripUpdate.trip.tripId] : [],
          ),
        );
        expect(rows.filter((r) => r.source !== 'scheduled' && !added.has(r.tripId))).toEqual([]);
      } finally {
        rig.service.ingest(bytes, 'test', 'tripUpdates');
      }
    },
    SLOW,
  );

  it(
    'puts each alert on the stops and routes its informed_entity names, and only there',
    () => {
      const alertBytes = fs.readFileSync(realFile('gtfs-rt', 'halifax-2025-alerts.pb'));
      expect(rig.service.ingest(alertBytes, 'test', 'alerts').ok).toBe(true);
      const alerts = decodeRaw(alertBytes).entity.flatMap((e) => {
        const a = e.alert as
          { informedEntity?: { stopId?: string; routeId?: string }[] } | undefined;
        return a ? [{ id: e.id, entities: a.informedEntity ?? [] }] : [];
      });
      expect(alerts).toHaveLength(46);
      const named = new Map<string, Set<string>>(); // stop → alert ids
      const routeShortName = (routeId: string) => rig.lookup.route(routeId)?.route ?? routeId;
      let pairs = 0;
      for (const alert of alerts) {
        for (const entity of alert.entities) {
          if (!entity.stopId) continue;
          const ids = named.get(entity.stopId) ?? new Set<string>();
          ids.add(alert.id);
          named.set(entity.stopId, ids);
          const shown = rig.service.alertsFor(entity.stopId).find((a) => a.alertId === alert.id);
          expect(shown, `${alert.id} at ${entity.stopId}`).toBeDefined();
          expect(shown!.source).toBe('agency');
          expect(shown!.header.en.length).toBeGreaterThan(0);
          if (entity.routeId) expect(shown!.routes).toContain(routeShortName(entity.routeId));
          pairs += 1;
        }
      }
      expect(pairs).toBe(259);
      // Each stop gets the alerts that name it (at most ten), and no other.
      for (const [stopId, ids] of named) {
        const shown = rig.service.alertsFor(stopId).map((a) => a.alertId);
        expect(shown.every((id) => ids.has(id))).toBe(true);
        expect(shown.length).toBe(Math.min(10, ids.size));
      }
      const unnamed = ['6121', '8699', '9003'].filter((s) => !named.has(s));
      expect(unnamed.length).toBeGreaterThan(0);
      for (const stopId of unnamed) expect(rig.service.alertsFor(stopId)).toEqual([]);
    },
    SLOW,
  );

  it(
    'matches almost every trip and stop id to the timetable, and says which did not',
    () => {
      const [report] = rig.service.report();
      expect(report!.tripUpdates).toBe(510);
      expect(report!.tripMatchRate).toBeGreaterThan(0.99);
      expect(report!.stopIdsMatched / report!.stopIdsNamed).toBeGreaterThan(0.99);
      expect(report!.unmatchedTripIds.length).toBeGreaterThan(0);
    },
    SLOW,
  );
});

describe.skipIf(!haveRealFeeds)('Caltrain TripUpdates at 2023-11-08T01:05:34Z', () => {
  let rig: RealtimeRig;
  let raw: RawFeed;

  beforeAll(async () => {
    rig = await realtimeRig(fs.readFileSync(realFile('gtfs', CALTRAIN.zip)), CALTRAIN.now);
    // Every stop's timetable window, read as a publishing pass does before it builds boards.
    await rig.prepare();
    const bytes = fs.readFileSync(realFile('gtfs-rt', CALTRAIN.rt));
    raw = decodeRaw(bytes);
    expect(rig.service.ingest(bytes, 'test', 'tripUpdates').ok).toBe(true);
  }, SLOW);
  afterAll(() => rig?.close());

  it(
    'matches the reference on every board: times only, no delays, start_time given',
    () => {
      const { counts, mismatches } = compareAllBoards(rig, CALTRAIN, raw);
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(counts.live).toBeGreaterThan(50);
      expect(rig.service.report()[0]).toMatchObject({ tripUpdates: 19, tripsMatched: 19 });
      console.info(`Caltrain boards vs reference: ${JSON.stringify(counts)}`);
    },
    SLOW,
  );
});
