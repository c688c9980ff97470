import { describe, expect, it } from 'vitest';
import { brightnessAt, isNight } from '../device/board/brightness';
import {
  chooseView,
  pickAnnouncement,
  rowsThatFit,
  type ViewInputs,
} from '../device/board/chooseView';
import { msUntilNextPage, pageIndexAt, pageLanguageAt } from '../device/board/pageClock';
import { Backoff } from '../device/link/backoff';
import { announcement, arrivalsData, configData, scheduleData } from './helpers/deviceFixtures';

const NOW = 1_750_000_000;

function inputs(overrides: Partial<ViewInputs> = {}): ViewInputs {
  return {
    now: NOW,
    config: configData(),
    lastArrivals: arrivalsData(NOW - 10),
    heartbeat: null,
    cachedDepartures: scheduleData(NOW - 1200).departures,
    scheduleKnown: true,
    announcements: [],
    agencyAlerts: [],
    language: 'en',
    width: 192,
    height: 64,
    staleAfterSeconds: 120,
    clockSynced: true,
    ...overrides,
  };
}

describe('chooseView', () => {
  it('shows live arrivals, as many as fit, when connected, the manager is up and data is fresh', () => {
    const view = chooseView(inputs());
    expect(view.mode).toBe('live');
    expect(view.rows).toHaveLength(3);
    expect(view.rows.every((r) => r.source === 'live')).toBe(true);
    expect(view.rows[0]?.time).toBe(NOW - 10 + 120);
    expect(view).toMatchObject({ width: 192, height: 64, now: NOW, timezone: 'Asia/Hong_Kong' });
    expect(view.stopName).toEqual(configData().stopName);
  });

  it('falls back to the timetable when the manager has been silent too long or sent nothing', () => {
    for (const broken of [{ lastArrivals: arrivalsData(NOW - 121) }, { lastArrivals: null }]) {
      const view = chooseView(inputs(broken));
      expect(view.mode, JSON.stringify(Object.keys(broken))).toBe('scheduled');
      expect(view.rows.length).toBeGreaterThan(0);
      expect(view.rows.every((r) => r.source !== 'live' && r.time >= NOW)).toBe(true);
    }
  });

  it('fits one row on a 32 px sign', () => {
    expect(rowsThatFit(128, 32)).toBe(1);
    expect(rowsThatFit(192, 64)).toBe(3);
    expect(chooseView(inputs({ width: 128, height: 32 })).rows).toHaveLength(1);
  });

  it('keeps a bus that left under 30 s ago, drops older ones, and sorts by time', () => {
    const arrivals = arrivalsData(NOW, []);
    const base = {
      tripId: 't',
      routeId: 'r',
      route: '5',
      headsign: { en: 'X' },
      source: 'live' as const,
    };
    arrivals.arrivals = [
      { ...base, tripId: 'later', time: NOW + 300, scheduledTime: NOW + 300 },
      { ...base, tripId: 'gone', time: NOW - 31, scheduledTime: NOW - 31 },
      { ...base, tripId: 'leaving', time: NOW - 30, scheduledTime: NOW - 30 },
    ];
    const view = chooseView(inputs({ lastArrivals: arrivals }));
    expect(view.rows.map((r) => r.time)).toEqual([NOW - 30, NOW + 300]);
  });

  it.each([
    ['the manager silent too long', { lastArrivals: arrivalsData(NOW - 121) }],
    ['no arrivals', { lastArrivals: null }],
    ['arrivals for another stop', { lastArrivals: { ...arrivalsData(NOW), stopId: 'elsewhere' } }],
  ] as const)('falls back to the cached schedule when %s', (_label, overrides) => {
    const view = chooseView(inputs(overrides));
    expect(view.mode).toBe('scheduled');
    expect(view.rows).toHaveLength(3);
    expect(view.rows.every((r) => r.source !== 'live')).toBe(true);
    // Departures every 10 min from NOW-1200: the ones at NOW-600 and NOW have the first at ≥ now.
    expect(view.rows.map((r) => r.time)).toEqual([NOW, NOW + 600, NOW + 1200]);
  });

  it('shows nothing when neither live nor scheduled departures are known', () => {
    expect(
      chooseView(inputs({ lastArrivals: null, cachedDepartures: [], scheduleKnown: false })).mode,
    ).toBe('none');
    const unconfigured = chooseView(inputs({ config: null }));
    expect(unconfigured).toMatchObject({ mode: 'none', rows: [], timezone: 'UTC' });
  });

  it('shows Chinese only when the page has Chinese text', () => {
    expect(chooseView(inputs({ language: 'zh' })).language).toBe('zh');
    const englishOnly = inputs({
      language: 'zh',
      config: configData({ stopName: { en: 'Harbour Road' } }),
      lastArrivals: {
        ...arrivalsData(NOW),
        arrivals: arrivalsData(NOW).arrivals.map((a) => ({ ...a, headsign: { en: 'Airport' } })),
      },
    });
    expect(chooseView(englishOnly).language).toBe('en');
    const withZhAnnouncement = {
      ...englishOnly,
      announcements: [announcement({ expiresAt: NOW + 60 })],
    };
    expect(chooseView(withZhAnnouncement).language).toBe('zh');
  });
});

describe('pickAnnouncement', () => {
  const a = (id: string, priority: 'info' | 'warning' | 'emergency', extra = {}) =>
    announcement({ announcementId: id, priority, expiresAt: NOW + 60, ...extra });

  it('prefers emergency over warning over info, then the newest', () => {
    const list = [
      a('info-new', 'info'),
      a('warn-new', 'warning'),
      a('warn-old', 'warning'),
      a('info-old', 'info'),
    ];
    expect(pickAnnouncement(list, NOW)?.announcementId).toBe('warn-new');
    expect(pickAnnouncement([...list, a('emerg', 'emergency')], NOW)?.announcementId).toBe('emerg');
  });

  it('ignores announcements not yet started or already expired', () => {
    const list = [
      a('future', 'emergency', { startsAt: NOW + 1 }),
      a('expired', 'emergency', { expiresAt: NOW }),
      a('current', 'info', { startsAt: NOW }),
    ];
    expect(pickAnnouncement(list, NOW)?.announcementId).toBe('current');
    expect(pickAnnouncement(list.slice(0, 2), NOW)).toBeUndefined();
    expect(chooseView(inputs({ announcements: list })).announcement).toEqual({
      text: list[2]?.text,
      priority: 'info',
      source: 'operator',
    });
  });
});

describe('pageClock', () => {
  it('alternates zh and en every pageSeconds, from the epoch', () => {
    expect(pageLanguageAt(0, 5)).toBe('zh');
    expect(pageLanguageAt(4_999, 5)).toBe('zh');
    expect(pageLanguageAt(5_000, 5)).toBe('en');
    expect(pageLanguageAt(10_000, 5)).toBe('zh');
    expect(pageIndexAt(12_345, 5)).toBe(2);
    expect(msUntilNextPage(12_345, 5)).toBe(2_655);
  });
});

describe('brightness', () => {
  const settings = { day: 80, night: 25, nightStart: '22:00', nightEnd: '06:00' };
  // 2025-06-15 in Hong Kong (UTC+8).
  const hk = (hh: number, mm = 0) => Date.UTC(2025, 5, 15, hh - 8, mm);

  it('uses night brightness across midnight in the sign time zone', () => {
    expect(brightnessAt(hk(21, 59), settings, 'Asia/Hong_Kong')).toBe(80);
    expect(brightnessAt(hk(22, 0), settings, 'Asia/Hong_Kong')).toBe(25);
    expect(brightnessAt(hk(3), settings, 'Asia/Hong_Kong')).toBe(25);
    expect(brightnessAt(hk(6, 0), settings, 'Asia/Hong_Kong')).toBe(80);
  });

  it('handles a night window within one day, no window at all, and unknown zones', () => {
    const afternoon = { ...settings, nightStart: '13:00', nightEnd: '14:00' };
    expect(isNight(hk(13, 30), afternoon, 'Asia/Hong_Kong')).toBe(true);
    expect(isNight(hk(14, 0), afternoon, 'Asia/Hong_Kong')).toBe(false);
    expect(isNight(hk(23), { ...settings, nightEnd: '22:00' }, 'Asia/Hong_Kong')).toBe(false);
    expect(isNight(Date.UTC(2025, 5, 15, 23), settings, 'Not/AZone')).toBe(true);
  });
});

describe('Backoff', () => {
  it('doubles from the minimum up to the cap and starts over after reset', () => {
    const backoff = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('keeps jittered delays within the bounds', () => {
    const low = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ minMs: 100, maxMs: 1_000, jitter: 0.5, random: () => 0.999 });
    expect([low.next(), low.next()]).toEqual([100, 100]);
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([
      150, 300, 600, 1_000, 1_000,
    ]);
  });
});
