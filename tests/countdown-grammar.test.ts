/**
 * The sign's countdown grammar and what wins the glass, on the pure parts:
 * chooseView, the countdown hold, the clock watch and the time column.
 */
import { describe, expect, it } from 'vitest';
import type { AgencyAlert, ArrivalsData } from '../shared';
import { chooseView, type ViewInputs } from '../device/board/chooseView';
import { ClockWatch } from '../device/board/clockWatch';
import { CountdownHold } from '../device/board/countdownHold';
import { Colour } from '../device/render/frame';
import { departureTime } from '../device/render/textFormat';
import { announcement, configData, scheduleData, STOP_ID } from './helpers/deviceFixtures';

/** 2025-06-15 12:00 in Hong Kong (04:00 UTC). */
const NOW = Date.UTC(2025, 5, 15, 4, 0, 0) / 1000;

function board(rows: Partial<ArrivalsData['arrivals'][number]>[], feedTimestamp?: number) {
  const data: ArrivalsData = {
    stopId: STOP_ID,
    generatedAt: NOW - 5,
    arrivals: rows.map((row, i) => ({
      tripId: `t${i}`,
      routeId: 'R1',
      route: '1',
      headsign: { en: 'Central', zh: '中環' },
      time: NOW + 600,
      scheduledTime: NOW + 600,
      source: 'live' as const,
      ...row,
    })),
  };
  if (feedTimestamp !== undefined) data.feedTimestamp = feedTimestamp;
  return data;
}

function inputs(overrides: Partial<ViewInputs> = {}): ViewInputs {
  return {
    now: NOW,
    config: configData(),
    lastArrivals: board([{ time: NOW + 300 }, { time: NOW + 900 }], NOW - 20),
    heartbeat: null,
    cachedDepartures: scheduleData(NOW - 300).departures,
    scheduleKnown: true,
    announcements: [],
    agencyAlerts: [],
    language: 'en',
    width: 192,
    height: 64,
    staleAfterSeconds: 180,
    predictionStaleSeconds: 90,
    clockSynced: true,
    ...overrides,
  };
}

const cell = (time: number, extra = {}) =>
  departureTime(
    { route: '1', headsign: { en: 'X' }, time, source: 'live', ...extra },
    NOW,
    'Asia/Hong_Kong',
    'en',
  );

const alert: AgencyAlert = {
  alertId: 'a1',
  source: 'agency',
  header: { en: 'Stop closed for works', zh: '本站因工程关闭' },
  routes: ['1'],
};

describe('the time column', () => {
  it('says Arriving at 30 s or less, then whole minutes up to 60, then a clock time', () => {
    expect(cell(NOW + 30).full).toBe('Arriving');
    expect(cell(NOW - 10).full).toBe('Arriving');
    expect(cell(NOW + 31).full).toBe('Arriving'); // under a whole minute: still arriving
    expect(cell(NOW + 60).full).toBe('1 min');
    expect(cell(NOW + 60 * 60 + 59).full).toBe('60 min');
    expect(cell(NOW + 61 * 60).full).toBe('13:01');
    expect(cell(NOW + 300, { atStop: true }).full).toBe('Boarding');
  });

  it('tells live, scheduled, cancelled and stale apart on every row', () => {
    expect(cell(NOW + 300)).toMatchObject({ full: '5 min', colour: Colour.green });
    expect(cell(NOW + 300, { source: 'scheduled' })).toMatchObject({
      full: '12:05',
      colour: Colour.amber,
    });
    expect(cell(NOW + 300, { source: 'cancelled' })).toMatchObject({
      full: 'Cancelled',
      compact: 'Canc',
      colour: Colour.red,
    });
    expect(cell(NOW + 300, { stale: true })).toMatchObject({ full: '5 min', colour: Colour.grey });
  });

  it('shows clock times, not countdowns, when the clock is not trusted', () => {
    const row = { route: '1', headsign: { en: 'X' }, time: NOW + 300, source: 'live' as const };
    expect(departureTime(row, NOW, 'Asia/Hong_Kong', 'zh', false).full).toBe('12:05');
    expect(departureTime(row, NOW, 'Asia/Hong_Kong', 'zh', true).full).toBe('5分钟');
  });
});

describe('what wins the glass', () => {
  const emergency = announcement({ priority: 'emergency', expiresAt: NOW + 600 });
  const warning = announcement({ priority: 'warning', expiresAt: NOW + 600 });
  const info = announcement({ priority: 'info', expiresAt: NOW + 600 });

  it('puts an operator emergency above an agency alert, and an alert above countdowns', () => {
    const withAlert = chooseView(inputs({ agencyAlerts: [alert], announcements: [info] }));
    expect(withAlert.announcement).toMatchObject({ source: 'agency', priority: 'warning' });
    expect(withAlert.announcement?.text.en).toBe('1: Stop closed for works');
    expect(withAlert.announcement?.text.zh).toBe('1路：本站因工程关闭');
    const both = chooseView(inputs({ agencyAlerts: [alert], announcements: [emergency] }));
    expect(both.announcement).toMatchObject({ source: 'operator', priority: 'emergency' });
    const warned = chooseView(inputs({ agencyAlerts: [alert], announcements: [warning] }));
    expect(warned.announcement).toMatchObject({ source: 'operator', priority: 'warning' });
  });

  it('says service has ended, or when the first bus comes, in place of empty rows', () => {
    const ended = chooseView(
      inputs({ lastArrivals: board([], NOW - 10), cachedDepartures: [], scheduleKnown: true }),
    );
    expect(ended.notice).toEqual({ kind: 'service-ended' });
    const tomorrow = NOW + 18 * 3600; // 06:00 next day in Hong Kong
    const firstBus = chooseView(
      inputs({
        lastArrivals: board([], NOW - 10),
        cachedDepartures: [{ ...scheduleData(NOW).departures[0]!, time: tomorrow }],
      }),
    );
    expect(firstBus.notice).toEqual({ kind: 'first-bus', time: tomorrow, tomorrow: true });
    // With departures to count down there is no notice; without a cached timetable nothing is claimed.
    expect(chooseView(inputs()).notice).toBeUndefined();
    const unknown = chooseView(
      inputs({ lastArrivals: board([], NOW - 10), cachedDepartures: [], scheduleKnown: false }),
    );
    expect(unknown.notice).toBeUndefined();
  });

  it('says so when the stop has gone from the timetable, in the agency zone', () => {
    const gone = chooseView(
      inputs({ config: configData({ stopInFeed: false, timezone: 'America/Halifax' }) }),
    );
    expect(gone.notice).toEqual({ kind: 'stop-missing' });
    expect(gone.rows).toEqual([]);
    expect(gone.timezone).toBe('America/Halifax');
  });

  it('shows live rows as countdowns and scheduled rows beside them', () => {
    const view = chooseView(
      inputs({
        lastArrivals: board(
          [
            { time: NOW + 120, stopsAway: 2 },
            { time: NOW + 400, source: 'scheduled' },
            { time: NOW + 500, source: 'cancelled' },
          ],
          NOW - 20,
        ),
      }),
    );
    expect(view.mode).toBe('live');
    expect(view.rows.map((r) => [r.source, r.stopsAway])).toEqual([
      ['live', 2],
      ['scheduled', undefined],
      ['cancelled', undefined],
    ]);
  });
});

describe('freshness', () => {
  it('marks live rows stale once their prediction is over 90 s old, scheduled rows never', () => {
    const rows = [{ time: NOW + 300 }, { time: NOW + 400, source: 'scheduled' as const }];
    const fresh = chooseView(inputs({ lastArrivals: board(rows, NOW - 90) }));
    expect(fresh.rows.map((r) => r.stale ?? false)).toEqual([false, false]);
    const old = chooseView(inputs({ lastArrivals: board(rows, NOW - 91) }));
    expect(old.rows.map((r) => r.stale ?? false)).toEqual([true, false]);
  });

  it('takes an unchanged board confirmed by a newer heartbeat as fresh, and a stale feed as stale', () => {
    const rows = [{ time: NOW + 300 }];
    const lastArrivals = { ...board(rows, NOW - 600), generatedAt: NOW - 600 };
    const confirmed = chooseView(
      inputs({
        lastArrivals,
        heartbeat: { checkedAt: NOW - 5, feedTimestamp: NOW - 25, live: true },
      }),
    );
    expect(confirmed.mode).toBe('live');
    expect(confirmed.rows[0]?.stale).toBeUndefined();
    // The manager is alive but its feed is not: the heartbeat says how old the feed is.
    const staleFeed = chooseView(
      inputs({
        lastArrivals,
        heartbeat: { checkedAt: NOW - 5, feedTimestamp: NOW - 600, live: false },
      }),
    );
    expect(staleFeed.mode).toBe('live');
    expect(staleFeed.rows[0]?.stale).toBe(true);
  });

  it('keeps counting down from cached epoch times when cut off, then falls back to the timetable', () => {
    const cached = board([{ time: NOW + 900 }], NOW - 5);
    const at = (later: number) => chooseView(inputs({ now: NOW + later, lastArrivals: cached }));
    expect(at(60).rows[0]).toMatchObject({ source: 'live', time: NOW + 900 });
    expect(at(60).rows[0]?.stale).toBeUndefined();
    expect(at(120)).toMatchObject({ mode: 'live' });
    expect(at(120).rows[0]?.stale).toBe(true);
    const fallen = at(180);
    expect(fallen.mode).toBe('scheduled');
    expect(fallen.rows.every((r) => r.source === 'scheduled')).toBe(true);
  });

  it('lets a departed bus leave: live rows 30 s after their time, others at their time', () => {
    const view = chooseView(
      inputs({
        lastArrivals: board(
          [
            { tripId: 'left', time: NOW - 31 },
            { tripId: 'leaving', time: NOW - 30 },
            { tripId: 'sched-gone', time: NOW - 1, source: 'scheduled' },
            { tripId: 'next', time: NOW + 200 },
          ],
          NOW - 10,
        ),
      }),
    );
    expect(view.rows.map((r) => r.tripId)).toEqual(['leaving', 'next']);
  });
});

describe('CountdownHold', () => {
  const viewAt = (now: number, time: number) =>
    chooseView(inputs({ now, lastArrivals: board([{ tripId: 'bus', time }], now - 5) }));

  it('never lets a countdown go up by one minute from jitter, but shows a real delay', () => {
    const hold = new CountdownHold();
    const shown = (now: number, time: number) => {
      const row = hold.apply(viewAt(now, time)).rows[0]!;
      return departureTime(row, now, 'Asia/Hong_Kong', 'en').full;
    };
    expect(shown(NOW, NOW + 4 * 60 + 50)).toBe('4 min');
    // The next prediction is 20 s later: 5 min would be a jump up; 4 stays.
    expect(shown(NOW + 1, NOW + 5 * 60 + 10)).toBe('4 min');
    // It counts down from there as time passes.
    expect(shown(NOW + 80, NOW + 5 * 60 + 10)).toBe('3 min');
    // A delay of two minutes or more shows at once.
    expect(shown(NOW + 81, NOW + 6 * 60 + 30)).toBe('5 min');
  });
});

describe('ClockWatch', () => {
  it('trusts the clock once it agrees with the manager, and not after a jump', () => {
    let wall = 1_000_000;
    let mono = 0;
    const watch = new ClockWatch({ wall: () => wall, monotonic: () => mono, policy: 'manager' });
    expect(watch.check().reason).toMatch(/no time sync/);
    watch.heard(wall - 300);
    expect(watch.check()).toEqual({ synced: true });
    wall += 1000;
    mono += 1000;
    expect(watch.check()).toEqual({ synced: true });
    wall += 3_600_000; // someone set the clock an hour on
    mono += 1000;
    expect(watch.check().reason).toMatch(/jumped/);
    watch.heard(wall - 60_000);
    expect(watch.check().reason).toMatch(/differs/);
    watch.heard(wall);
    expect(watch.check()).toEqual({ synced: true });
  });

  it('judges message times by the clock it trusts: tightly once confirmed, by the manager when two heartbeats agree against it', () => {
    let wall = Date.UTC(2025, 10, 6, 21, 0, 0);
    const watch = new ClockWatch({ wall: () => wall, monotonic: () => 0, policy: 'manager' });
    const seconds = (ms: number) => Math.floor(ms / 1000);
    // Nothing vouches for the clock yet: its own time, loosely.
    expect(watch.reference()).toEqual({ now: seconds(wall), skewSeconds: 300 });
    watch.heard(wall - 2_000);
    expect(watch.reference()).toEqual({ now: seconds(wall), skewSeconds: 30 });
    // The sign's clock is set an hour back: one heartbeat saying so is not enough to move it.
    const managerAhead = 3_600_000;
    watch.heard(wall + managerAhead);
    expect(watch.reference()).toEqual({ now: seconds(wall), skewSeconds: 300 });
    wall += 5_000;
    watch.heard(wall + managerAhead);
    expect(watch.check()).toMatchObject({ synced: false });
    expect(watch.reference()).toEqual({ now: seconds(wall + managerAhead), skewSeconds: 30 });
    const trusting = new ClockWatch({ wall: () => wall, monotonic: () => 0, policy: 'trust' });
    trusting.heard(wall + managerAhead);
    expect(trusting.reference()).toEqual({ now: seconds(wall), skewSeconds: 300 });
  });
});
