import Database from 'better-sqlite3';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignCache } from '../device/cache/signCache';
import {
  announcement,
  arrivalsData,
  configData,
  scheduleData,
  STOP_ID,
  tempDir,
} from './helpers/deviceFixtures';

const NOW = 1_750_000_000;

describe('SignCache', () => {
  let temp: ReturnType<typeof tempDir>;
  let dbPath: string;
  let cache: SignCache;

  beforeEach(() => {
    temp = tempDir();
    dbPath = path.join(temp.dir, 'nested', 'sign.db');
    cache = new SignCache({ path: dbPath });
    cache.open();
  });

  afterEach(() => {
    cache.close();
    temp.remove();
  });

  it('starts empty', () => {
    expect(cache.config()).toBeNull();
    expect(cache.lastArrivals()).toBeNull();
    expect(cache.scheduleInfo()).toBeNull();
    expect(cache.upcomingDepartures(NOW, 3)).toEqual([]);
    expect(cache.storedAnnouncements(NOW)).toEqual([]);
  });

  it('keeps everything across a reopen of the file', () => {
    cache.saveConfig(configData());
    cache.replaceSchedule(scheduleData(NOW));
    cache.saveArrivals(arrivalsData(NOW));
    cache.setAnnouncement('device', announcement({ expiresAt: NOW + 60 }));
    cache.close();

    const reopened = new SignCache({ path: dbPath });
    reopened.open();
    try {
      expect(reopened.config()).toEqual(configData());
      expect(reopened.lastArrivals()).toEqual(arrivalsData(NOW));
      expect(reopened.scheduleInfo()).toMatchObject({ stopId: STOP_ID, departureCount: 24 });
      expect(reopened.upcomingDepartures(NOW, 2).map((d) => d.tripId)).toEqual([
        'sched-0',
        'sched-1',
      ]);
      expect(reopened.storedAnnouncements(NOW)).toHaveLength(1);
    } finally {
      reopened.close();
    }
  });

  it('writes through a write-ahead log', () => {
    cache.saveConfig(configData());
    const other = new Database(dbPath, { readonly: true });
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      other.close();
    }
  });

  it('replaces the schedule as a whole and returns departures from now on, soonest first', () => {
    cache.replaceSchedule(scheduleData(NOW, 10));
    const replacement = scheduleData(NOW + 5_000, 3);
    cache.replaceSchedule(replacement);
    expect(cache.scheduleInfo()?.departureCount).toBe(3);
    const upcoming = cache.upcomingDepartures(NOW + 5_600, 10);
    expect(upcoming.map((d) => d.time)).toEqual([NOW + 5_600, NOW + 6_200, NOW + 6_800]);
    expect(upcoming[0]).toEqual(replacement.departures[0]);
  });

  it('keeps the old schedule when a replace fails half way', () => {
    cache.replaceSchedule(scheduleData(NOW, 5));
    const broken = scheduleData(NOW, 5);
    // A departure the table cannot hold makes the insert throw inside the transaction.
    (broken.departures[3] as { route: unknown }).route = null;
    expect(() => cache.replaceSchedule(broken)).toThrow();
    expect(cache.scheduleInfo()?.departureCount).toBe(5);
    expect(cache.upcomingDepartures(NOW, 10)).toHaveLength(5);
  });

  it('keeps one announcement per source topic, in the order received, until it expires', () => {
    const ids = (now: number) =>
      cache.storedAnnouncements(now).map((a) => [a.source, a.announcement.announcementId]);
    cache.setAnnouncement('device', announcement({ announcementId: 'd1', expiresAt: NOW + 100 }));
    cache.setAnnouncement(
      `stop:${STOP_ID}`,
      announcement({ announcementId: 's1', expiresAt: NOW + 10 }),
    );
    expect(ids(NOW)).toEqual([
      ['device', 'd1'],
      [`stop:${STOP_ID}`, 's1'],
    ]);
    // The topic's retained message was replaced: the old one is gone, the new one is newest.
    cache.setAnnouncement('device', announcement({ announcementId: 'd2', expiresAt: NOW + 100 }));
    expect(ids(NOW)).toEqual([
      [`stop:${STOP_ID}`, 's1'],
      ['device', 'd2'],
    ]);
    expect(ids(NOW + 10)).toEqual([['device', 'd2']]);
    expect(cache.purgeExpiredAnnouncements(NOW + 10)).toBe(1);
    expect(ids(NOW)).toEqual([['device', 'd2']]);
  });

  it('clears announcements by the topic that delivered them', () => {
    cache.setAnnouncement('device', announcement({ announcementId: 'd' }));
    cache.setAnnouncement(`stop:${STOP_ID}`, announcement({ announcementId: 's' }));
    expect(cache.removeAnnouncementsFrom(`stop:${STOP_ID}`)).toBe(1);
    expect(cache.storedAnnouncements(NOW).map((a) => a.announcement.announcementId)).toEqual(['d']);
  });
});
