import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScheduledDeparture } from '../shared';
import { GtfsImportError } from '../manager/gtfs/errors';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import {
  NIGHT_REMOVED_DATE,
  RACE_ADDED_DATE,
  ROUTE_N8,
  STOP_CENTRAL,
  STOP_HARBOURFRONT,
  STOP_MARKET,
  STOP_UNIVERSITY,
  TINY_COUNTS,
  TINY_TIMEZONE,
  TRIP_PAST_MIDNIGHT,
  TRIP_RACE,
  tinyGtfsFiles,
  tinyGtfsZip,
  zipGtfs,
} from './helpers/gtfsFixture';

let dir: string;
const opened: Database.Database[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-gtfs-'));
});

afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openStore(): GtfsStore {
  const db = new Database(path.join(dir, 'manager.db'));
  opened.push(db);
  const store = new GtfsStore(db);
  store.init();
  return store;
}

async function importedStore(bytes: Uint8Array = tinyGtfsZip()): Promise<GtfsStore> {
  const store = openStore();
  await store.importZip(bytes, 'tiny-gtfs');
  return store;
}

const epoch = (local: string, zone = TINY_TIMEZONE) =>
  DateTime.fromISO(local, { zone }).toSeconds();

/** "yyyy-MM-dd HH:mm route trip" lines: what the sign would show, easy to read in a failure. */
function board(departures: ScheduledDeparture[], zone = TINY_TIMEZONE): string[] {
  return departures.map(
    (d) =>
      `${DateTime.fromSeconds(d.time, { zone }).toFormat('yyyy-MM-dd HH:mm')} ${d.route} ${d.tripId}`,
  );
}

const dashed = (yyyymmdd: string) =>
  `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6)}`;

describe('tiny feed import', () => {
  it('imports every row and keeps the summary across a restart', async () => {
    const store = openStore();
    expect(store.hasSchedule()).toBe(false);
    expect(store.departures(STOP_CENTRAL, 0, 2e9)).toEqual([]);

    const summary = await store.importZip(tinyGtfsZip(), 'tiny-gtfs');
    expect(summary).toMatchObject({ source: 'tiny-gtfs', warnings: [], ...TINY_COUNTS });
    expect(store.hasSchedule()).toBe(true);

    const reopened = openStore();
    expect(reopened.summary()).toEqual(summary);
    expect(reopened.stop(STOP_CENTRAL)).toEqual({
      stopId: STOP_CENTRAL,
      name: { en: 'Central Station', zh: '中環站' },
      timezone: TINY_TIMEZONE,
    });
    expect(reopened.stop('NOPE')).toBeUndefined();
  });
});

describe('departures', () => {
  it('lists the next buses at Central in order, with Chinese headsigns', async () => {
    const store = await importedStore();
    const from = epoch('2025-06-11T08:03');
    const departures = store.departures(STOP_CENTRAL, from, from + 30 * 60);
    expect(departures).toEqual([
      {
        tripId: 'R5X-0810',
        routeId: 'R5X',
        route: '5X',
        headsign: { en: 'Airport', zh: '機場' },
        time: epoch('2025-06-11T08:10'),
      },
      {
        tripId: 'R3-0820',
        routeId: 'R3',
        route: '3',
        headsign: { en: 'North Point', zh: '北角' },
        time: epoch('2025-06-11T08:20'),
      },
      {
        tripId: 'R1-0825',
        routeId: 'R1',
        route: '1',
        headsign: { en: 'University', zh: '大學' },
        time: epoch('2025-06-11T08:30'),
      },
    ]);
  });

  it('includes the window start, excludes its end, and honours the limit', async () => {
    const store = await importedStore();
    const from = epoch('2025-06-11T08:10');
    expect(board(store.departures(STOP_CENTRAL, from, epoch('2025-06-11T08:30')))).toEqual([
      '2025-06-11 08:10 5X R5X-0810',
      '2025-06-11 08:20 3 R3-0820',
    ]);
    expect(store.departures(STOP_CENTRAL, from, from + 86_400, 4)).toHaveLength(4);
    expect(store.departures(STOP_CENTRAL, from, from)).toEqual([]);
  });

  it('never offers a bus that ends its trip here or lets nobody on', async () => {
    const store = await importedStore();
    const from = epoch('2025-06-11T00:00');
    expect(store.departures(STOP_UNIVERSITY, from, from + 86_400)).toEqual([]);
    const market = store.departures(STOP_MARKET, from, from + 86_400);
    expect(market.length).toBe(37 + 36);
    expect(market.some((d) => d.routeId === ROUTE_N8)).toBe(false);
    expect(
      new Set(store.departures(STOP_HARBOURFRONT, from, from + 86_400).map((d) => d.route)),
    ).toEqual(new Set(['1']));
  });

  it('shows a trip timed past 24:00 on the next calendar day, for its own service day only', async () => {
    const store = await importedStore();
    expect(
      board(store.departures(STOP_CENTRAL, epoch('2025-06-11T23:55'), epoch('2025-06-12T01:30'))),
    ).toEqual([
      `2025-06-12 00:00 1 ${TRIP_PAST_MIDNIGHT}`,
      '2025-06-12 00:20 N8 N8-2420',
      '2025-06-12 01:20 N8 N8-2520',
    ]);
    const night = store.departures(
      STOP_CENTRAL,
      epoch('2025-06-12T00:10'),
      epoch('2025-06-12T00:30'),
    );
    expect(night[0]?.headsign).toEqual({ en: 'University (Night)', zh: '大學（通宵）' });
    // The calendar starts on 2024-01-01: nothing from the service day before it spills over.
    expect(
      store.departures(STOP_CENTRAL, epoch('2024-01-01T00:00'), epoch('2024-01-01T06:00')),
    ).toEqual([]);
  });

  it('covers windows spanning several days', async () => {
    const store = await importedStore();
    const all = store.departures(
      STOP_CENTRAL,
      epoch('2025-06-10T06:00'),
      epoch('2025-06-13T06:00'),
    );
    expect(all).toHaveLength(3 * (37 + 36 + 36 + 6));
    expect(all.every((d, i) => i === 0 || (all[i - 1]?.time ?? 0) <= d.time)).toBe(true);
  });

  it('drops the night bus on its removed date and adds the one-day airport run', async () => {
    const store = await importedStore();
    const removedDay = DateTime.fromISO(dashed(NIGHT_REMOVED_DATE), { zone: TINY_TIMEZONE });
    const nightAfter = (day: DateTime) =>
      store
        .departures(
          STOP_CENTRAL,
          day.plus({ days: 1 }).toSeconds(),
          day.plus({ days: 1, hours: 6 }).toSeconds(),
        )
        .map((d) => d.tripId);
    expect(nightAfter(removedDay)).toEqual([TRIP_PAST_MIDNIGHT]);
    expect(nightAfter(removedDay.minus({ days: 1 }))).toHaveLength(7);

    const raceNoon = epoch(`${dashed(RACE_ADDED_DATE)}T12:01`);
    const tripsAround = (from: number) =>
      store.departures(STOP_CENTRAL, from, from + 600).map((d) => d.tripId);
    expect(tripsAround(raceNoon)).toEqual([TRIP_RACE, 'R5X-1210']);
    expect(tripsAround(raceNoon + 86_400)).toEqual(['R5X-1210']);
  });
});

/** A one-route feed built in the test, for cases the demo feed does not cover. */
function smallFeed(timezone: string, stopTimes: string[], extra: Record<string, string> = {}) {
  return {
    'agency.txt': `agency_name,agency_url,agency_timezone\nTest Transit,https://t.example,${timezone}\n`,
    'stops.txt': 'stop_id,stop_name\nA,Alpha\nB,Beta\nC,Gamma\n',
    'routes.txt': 'route_id,route_short_name,route_long_name,route_type\nR,7,Alpha - Gamma,700\n',
    'trips.txt': 'route_id,service_id,trip_id,trip_headsign\nR,S,T1,Gamma\nR,S,T2,Gamma\n',
    'stop_times.txt': [
      'trip_id,arrival_time,departure_time,stop_id,stop_sequence',
      ...stopTimes,
    ].join('\n'),
    'calendar.txt':
      'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n' +
      'S,1,1,1,1,1,1,1,20240101,20251231\n',
    ...extra,
  };
}

describe('daylight-saving days', () => {
  const zone = 'America/Halifax';
  const feed = smallFeed(zone, [
    'T1,08:00:00,08:00:00,A,1',
    'T1,08:30:00,08:30:00,C,2',
    'T2,25:30:00,25:30:00,A,1',
    'T2,26:00:00,26:00:00,C,2',
  ]);

  it.each([
    ['spring forward', '2024-03-10', '2024-03-11'],
    ['fall back', '2024-11-03', '2024-11-04'],
  ])(
    'reads times as wall-clock hours from noon minus 12 h (%s, %s)',
    async (_label, date, next) => {
      const store = await importedStore(zipGtfs(feed));
      const dayStart = DateTime.fromISO(`${date}T12:00`, { zone }).minus({ hours: 12 });
      // From 03:00, past the previous service day's 25:30 trip.
      const from = dayStart.plus({ hours: 3 }).toSeconds();
      const departures = store.departures('A', from, from + 27 * 3600);
      expect(board(departures, zone)).toEqual([`${date} 08:00 7 T1`, `${next} 01:30 7 T2`]);
      expect(departures.map((d) => d.time)).toEqual([
        dayStart.toSeconds() + 8 * 3600,
        dayStart.toSeconds() + 25.5 * 3600,
      ]);
      // Not local midnight + 8 h: on these days the clock changed in between.
      expect(departures[0]?.time).not.toBe(epoch(`${date}T00:00`, zone) + 8 * 3600);
    },
  );
});

describe('refused feeds leave the previous schedule in place', () => {
  const withoutStopTimes = () => {
    const files: Record<string, string> = tinyGtfsFiles();
    delete files['stop_times.txt'];
    return zipGtfs(files);
  };
  const tiny = tinyGtfsZip();
  const cases: [string, () => Uint8Array, RegExp][] = [
    [
      'random bytes',
      () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256),
      /^not a zip archive: /,
    ],
    ['a truncated zip', () => tiny.slice(0, Math.floor(tiny.length * 0.6)), /^not a zip archive: /],
    [
      'a zip without stop_times.txt',
      withoutStopTimes,
      /^stop_times\.txt is missing from the feed$/,
    ],
    [
      'stops.txt without stop_id',
      () =>
        zipGtfs({ ...tinyGtfsFiles(), 'stops.txt': 'stop_name,stop_lat,stop_lon\nCentral,1,1\n' }),
      /^stops\.txt: required column stop_id missing$/,
    ],
    [
      'no usable stop_times',
      () =>
        zipGtfs({
          ...tinyGtfsFiles(),
          'stop_times.txt':
            'trip_id,arrival_time,departure_time,stop_id,stop_sequence\nGHOST,1:00:00,1:00:00,CEN,1\n',
        }),
      /^stop_times\.txt has no usable rows$/,
    ],
    [
      'an unclosed quote',
      () =>
        zipGtfs({ ...tinyGtfsFiles(), 'routes.txt': 'route_id,route_short_name\nR1,"1\nR3,3\n' }),
      /^routes\.txt: malformed CSV: /,
    ],
  ];

  it.each(cases)('%s', async (_label, broken, message) => {
    const store = await importedStore();
    const from = epoch('2025-06-11T08:03');
    const before = {
      summary: store.summary(),
      departures: store.departures(STOP_CENTRAL, from, from + 7200),
    };

    let error: unknown;
    try {
      await store.importZip(broken(), 'broken.zip');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GtfsImportError);
    expect((error as Error).message).toMatch(message);

    for (const s of [store, openStore()]) {
      expect(s.summary()).toEqual(before.summary);
      expect(s.departures(STOP_CENTRAL, from, from + 7200)).toEqual(before.departures);
    }
  });
});

describe('real-feed quirks', () => {
  it('takes a BOM, spaced headers, unpadded hours, CRLF, no final newline and a subfolder', async () => {
    const files = tinyGtfsFiles();
    const quirky: Record<string, string> = {};
    for (const [name, text] of Object.entries(files)) quirky[`harbour-city/${name}`] = text;
    quirky['harbour-city/stops.txt'] = `\uFEFF${files['stops.txt']}`;
    quirky['harbour-city/stop_times.txt'] = (files['stop_times.txt'] ?? '')
      .replace(/^trip_id,arrival_time,departure_time/, 'trip_id, arrival_time , departure_time ')
      // Halifax style " 8:10:00" for even hours, Caltrain style "9:10:00" for odd ones.
      .replace(/,0(\d):/g, (_m, h: string) => (Number(h) % 2 ? `,${h}:` : `, ${h}:`))
      .replace(/\n/g, '\r\n')
      .trimEnd();
    const store = await importedStore(zipGtfs(quirky));
    expect(store.summary()).toMatchObject({ warnings: [], ...TINY_COUNTS });
    const from = epoch('2025-06-11T08:03');
    expect(board(store.departures(STOP_CENTRAL, from, from + 1800))).toEqual([
      '2025-06-11 08:10 5X R5X-0810',
      '2025-06-11 08:20 3 R3-0820',
      '2025-06-11 08:30 1 R1-0825',
    ]);
  });

  it.each([
    ['no calendar.txt', undefined],
    ['an empty calendar.txt', ''],
  ])('takes service described only in calendar_dates.txt (%s)', async (_label, calendar) => {
    const feed = smallFeed('Asia/Hong_Kong', ['T1,7:00:00,7:00:00,A,1', 'T1,7:20:00,7:20:00,C,2']);
    const { 'calendar.txt': _replaced, ...rest } = feed;
    const files: Record<string, string> = {
      ...rest,
      'calendar_dates.txt': 'service_id,date,exception_type\nS,20250301,1\n',
    };
    if (calendar !== undefined) files['calendar.txt'] = calendar;
    const store = await importedStore(zipGtfs(files));
    expect(store.summary()).toMatchObject({ serviceStart: '20250301', serviceEnd: '20250301' });
    const day = (d: string) =>
      store.departures('A', epoch(`${d}T00:00`), epoch(`${d}T23:59`)).length;
    expect([day('2025-03-01'), day('2025-03-02')]).toEqual([1, 0]);
  });

  it('skips bad rows with a capped list of warnings', async () => {
    const bad = Array.from({ length: 60 }, (_, i) => `T2,xx:00:00,25:00:00,A,${i + 1}`);
    const feed = smallFeed('Asia/Hong_Kong', [
      'T1,7:00:00,7:00:00,A,1',
      'T1,7:20:00,7:20:00,ZZZ,2',
      'T1,7:30:00,7:30:00,C,3',
      ...bad,
    ]);
    const summary = await openStore().importZip(zipGtfs(feed), 'bad-rows');
    expect(summary.stopTimes).toBe(2);
    expect(summary.warnings).toHaveLength(51);
    expect(summary.warnings[0]).toBe("stop_times.txt line 3: unknown stop_id 'ZZZ'");
    expect(summary.warnings[1]).toBe("stop_times.txt line 5: arrival_time 'xx:00:00'");
    expect(summary.warnings[50]).toBe('… and 11 more warnings');
  });

  it('spaces untimed stops evenly between timed ones', async () => {
    const feed = smallFeed('Asia/Hong_Kong', [
      'T1,7:00:00,7:00:00,A,1',
      'T1,,,B,2',
      'T1,7:20:00,7:20:00,C,3',
    ]);
    const store = await importedStore(zipGtfs(feed));
    expect(
      board(store.departures('B', epoch('2025-03-01T00:00'), epoch('2025-03-02T00:00'))),
    ).toEqual(['2025-03-01 07:10 7 T1']);
  });

  it('repeats frequency-based trips on their headway', async () => {
    const feed = smallFeed(
      'Asia/Hong_Kong',
      ['T1,0:00:00,0:00:00,A,1', 'T1,0:05:00,0:05:00,B,2', 'T1,0:20:00,0:20:00,C,3'],
      {
        'frequencies.txt': 'trip_id,start_time,end_time,headway_secs\nT1,07:00:00,08:00:00,900\n',
      },
    );
    const store = await importedStore(zipGtfs(feed));
    expect(
      board(store.departures('B', epoch('2025-03-01T07:10'), epoch('2025-03-01T09:00'))),
    ).toEqual(['2025-03-01 07:20 7 T1', '2025-03-01 07:35 7 T1', '2025-03-01 07:50 7 T1']);
  });
});
