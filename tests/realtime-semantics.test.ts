/**
 * The GTFS-realtime reference's rules, one by one, on the tiny timetable with
 * feeds built by the official bindings, so each rule is pinned to a trip and
 * a stop whose times are known by heart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arrival } from '../shared';
import { tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import { encodeFeed, realtimeRig, type RealtimeRig } from './helpers/realtimeFeeds';

/** Monday 2025-06-16, 06:20 in Hong Kong. */
const NOW = Date.UTC(2025, 5, 15, 22, 20, 0) / 1000;
const DATE = '20250616';
/** Epoch seconds of a Hong Kong wall time on the service date (HKT is UTC+8 all year). */
const hk = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Date.UTC(2025, 5, 15, 16, 0, 0) / 1000 + h * 3600 + m * 60;
};

function feed(entities: Record<string, unknown>[], timestamp = NOW - 10): Uint8Array {
  return encodeFeed({
    header: { gtfsRealtimeVersion: '2.0', incrementality: 0, timestamp },
    entity: entities.map((tripUpdate, i) => ({ id: `e${i}`, tripUpdate })),
  });
}

const tu = (
  tripId: string,
  updates: Record<string, unknown>[],
  trip: Record<string, unknown> = {},
) => ({
  trip: { tripId, startDate: DATE, ...trip },
  stopTimeUpdate: updates,
});

let rig: RealtimeRig;

/** The row of a trip on a stop's board, as the signs there would be sent it. */
function row(stopId: string, tripId: string): Arrival | undefined {
  return rig.boards.build(stopId, rig.now.seconds).arrivals.find((a) => a.tripId === tripId);
}

beforeAll(async () => {
  // R1-0625 becomes frequency-based: runs leave Harbourfront at 06:25, 06:55, 07:25 … 08:55.
  const files = tinyGtfsFiles();
  files['frequencies.txt'] =
    'trip_id,start_time,end_time,headway_secs\nR1-0625,06:25:00,09:00:00,1800\n';
  rig = await realtimeRig(zipGtfs(files), NOW);
  await rig.prepare();
  const result = rig.service.ingest(
    feed([
      // time over delay: the time says 5 min late, the delay field says 1.
      tu('R1-0725', [
        { stopSequence: 1, departure: { time: hk('07:30'), delay: 60 } },
        { stopSequence: 3, scheduleRelationship: 2 /* NO_DATA */ },
      ]),
      // 3 min late at Harbourfront, SKIPPED at Central; the delay carries on past the skip.
      tu('R1-0755', [
        { stopSequence: 1, departure: { delay: 180 } },
        { stopSequence: 2, scheduleRelationship: 1 /* SKIPPED */ },
      ]),
      tu('R1-0825', [], { scheduleRelationship: 3 /* CANCELED */ }),
      // ADDED: a trip the timetable does not have, on its own times.
      tu(
        'EXTRA-1',
        [
          { stopId: 'CEN', departure: { time: hk('07:12') } },
          { stopId: 'UNI', arrival: { time: hk('07:25') } },
        ],
        { routeId: 'R1', scheduleRelationship: 1 /* ADDED */ },
      ),
      // Tomorrow's run of R1-0855 says nothing about today's.
      tu('R1-0855', [{ stopSequence: 1, departure: { delay: 600 } }], { startDate: '20250617' }),
      // The 06:55 run of the frequency-based trip, 4 min late.
      tu('R1-0625', [{ stopSequence: 2, departure: { delay: 240 } }], { startTime: '06:55:00' }),
    ]),
    'test',
    'tripUpdates',
  );
  expect(result.ok).toBe(true);
});

afterAll(() => rig.close());

describe('TripUpdates on the boards', () => {
  it('takes time over delay, and propagates the delay that time implies to later stops', () => {
    expect(row('HBF', 'R1-0725')).toMatchObject({
      source: 'live',
      time: hk('07:30'),
      scheduledTime: hk('07:25'),
      delay: 300,
    });
    expect(row('CEN', 'R1-0725')).toMatchObject({ source: 'live', time: hk('07:35'), delay: 300 });
  });

  it('goes back to the timetable after NO_DATA: scheduled, not on time', () => {
    expect(row('MKT', 'R1-0725')).toMatchObject({ source: 'scheduled', time: hk('07:35') });
    expect(row('MKT', 'R1-0725')?.delay).toBeUndefined();
  });

  it('takes a trip off the board of a stop it skips, and carries its delay past it', () => {
    expect(row('HBF', 'R1-0755')).toMatchObject({ source: 'live', time: hk('07:58'), delay: 180 });
    expect(row('CEN', 'R1-0755')).toBeUndefined();
    expect(row('MKT', 'R1-0755')).toMatchObject({ source: 'live', time: hk('08:08'), delay: 180 });
  });

  it('says nothing live of stops before a trip’s first update', () => {
    // The 06:55 run of R1-0625 has its first update at Central (stop 2).
    const harbourfront = rig.boards
      .build('HBF', NOW)
      .arrivals.find((a) => a.tripId === 'R1-0625' && a.scheduledTime === hk('06:55'));
    expect(harbourfront).toMatchObject({ source: 'scheduled', time: hk('06:55') });
  });

  it('shows a cancelled trip as cancelled at every stop it would have served', () => {
    for (const stop of ['HBF', 'CEN', 'MKT']) {
      expect(row(stop, 'R1-0825'), stop).toMatchObject({ source: 'cancelled' });
    }
    expect(row('CEN', 'R1-0825')?.time).toBe(hk('08:30'));
  });

  it('caps cancelled rows per board so they never crowd out running buses', async () => {
    const many = await realtimeRig(zipGtfs(tinyGtfsFiles()), NOW, 8);
    try {
      many.service.ingest(
        feed(
          ['R1-0625', 'R1-0655', 'R1-0725', 'R1-0755'].map((id) =>
            tu(id, [], { scheduleRelationship: 3 }),
          ),
        ),
        'test',
        'tripUpdates',
      );
      await many.prepare(['CEN']);
      const rows = many.boards.build('CEN', NOW).arrivals;
      expect(rows.filter((a) => a.source === 'cancelled')).toHaveLength(2);
      expect(rows).toHaveLength(8);
    } finally {
      await many.close();
    }
  });

  it('shows an ADDED trip with its own times, named after where it ends', () => {
    expect(row('CEN', 'EXTRA-1')).toMatchObject({
      source: 'live',
      time: hk('07:12'),
      route: '1',
      headsign: { en: 'University' },
    });
  });

  it('matches trips by start_date: tomorrow’s update leaves today’s run scheduled', () => {
    expect(row('CEN', 'R1-0855')).toMatchObject({ source: 'scheduled', time: hk('09:00') });
  });

  it('matches a frequency-based trip by start_time too', () => {
    const rows = rig.boards.build('CEN', NOW).arrivals.filter((a) => a.tripId === 'R1-0625');
    expect(rows.map((a) => [a.scheduledTime, a.source, a.time])).toEqual([
      [hk('06:30'), 'scheduled', hk('06:30')],
      [hk('07:00'), 'live', hk('07:04')],
      [hk('07:30'), 'scheduled', hk('07:30')],
      [hk('08:00'), 'scheduled', hk('08:00')],
      [hk('08:30'), 'scheduled', hk('08:30')],
      [hk('09:00'), 'scheduled', hk('09:00')],
    ]);
  });

  it('leaves trips a FULL_DATASET feed does not mention scheduled, never on time', () => {
    const route3 = rig.boards.build('CEN', NOW).arrivals.filter((a) => a.route === '3');
    expect(route3.length).toBeGreaterThan(0);
    expect(route3.every((a) => a.source === 'scheduled' && a.delay === undefined)).toBe(true);
  });

  it('reports how many trips matched the timetable', () => {
    const [trips] = rig.service.report();
    expect(trips).toMatchObject({
      kind: 'tripUpdates',
      tripUpdates: 6,
      tripsMatched: 6,
      live: true,
      lastError: null,
      reason: null,
    });
  });

  it('treats a feed older than 90 s as stale: nothing on the boards is live', () => {
    rig.now.seconds = NOW + 80; // the header is NOW - 10
    expect(row('MKT', 'R1-0755')?.source).toBe('live');
    rig.now.seconds = NOW + 81;
    const rows = rig.boards.build('CEN', rig.now.seconds).arrivals;
    expect(rows.every((a) => a.source === 'scheduled')).toBe(true);
    expect(rig.service.report()[0]?.live).toBe(false);
    expect(rig.service.report()[0]?.reason).toMatch(/stale: header is 91 s old/);
    expect(rig.service.heartbeat()).toMatchObject({ live: false, feedTimestamp: NOW - 10 });
    rig.now.seconds = NOW;
  });

  it('turns VehiclePositions into stops away, at the stop, crowding, and a bus that has left', () => {
    const vehicles = encodeFeed({
      header: { gtfsRealtimeVersion: '2.0', timestamp: NOW - 10 },
      entity: [
        // R1-0725 heading for Harbourfront (stop 1), standing room only.
        {
          id: 'v1',
          vehicle: {
            trip: { tripId: 'R1-0725', startDate: DATE },
            currentStopSequence: 1,
            currentStatus: 2 /* IN_TRANSIT_TO */,
            occupancyStatus: 3 /* STANDING_ROOM_ONLY */,
          },
        },
        // R1-0755 stopped at Market Street (stop 3): it has left Harbourfront and Central.
        {
          id: 'v2',
          vehicle: {
            trip: { tripId: 'R1-0755', startDate: DATE },
            currentStopSequence: 3,
            currentStatus: 1 /* STOPPED_AT */,
            occupancyStatus: 5 /* FULL */,
          },
        },
      ],
    });
    expect(rig.service.ingest(vehicles, 'test', 'vehiclePositions').ok).toBe(true);
    expect(row('CEN', 'R1-0725')).toMatchObject({ stopsAway: 1, crowding: 'standing' });
    expect(row('HBF', 'R1-0725')).toMatchObject({ stopsAway: 0 });
    expect(row('HBF', 'R1-0725')?.atStop).toBeUndefined();
    expect(row('MKT', 'R1-0755')).toMatchObject({ stopsAway: 0, atStop: true, crowding: 'full' });
    // Past Harbourfront already: off that board, whatever its predicted time says.
    expect(row('HBF', 'R1-0755')).toBeUndefined();
  });
});
