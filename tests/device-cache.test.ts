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
    expect(cache.activeAnnouncements(NOW)).toEqual([]);
  });

  it('keeps everything across a reopen of the file', () => {
    cache.saveConfig(configData());
    cache.replaceSchedule(scheduleData(NOW));
    cache.saveArrivals(arrivalsData(NOW));
    cache.upsertAnnouncement(announcement({ expiresAt: NOW + 60 }), 'device');
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
      expect(reopened.activeAnnouncements(NOW)).toHaveLength(1);
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

  it('keeps announcements by id, newest first, until they expire', () => {
    cache.upsertAnnouncement(
      announcement({ announcementId: 'old', expiresAt: NOW + 100 }),
      'device',
    );
    cache.upsertAnnouncement(
      announcement({ announcementId: 'new', expiresAt: NOW + 10 }),
      `stop:${STOP_ID}`,
    );
    expect(cache.activeAnnouncements(NOW).map((a) => a.announcementId)).toEqual(['new', 'old']);
    // Same id again replaces, and counts as the newest.
    cache.upsertAnnouncement(
      announcement({ announcementId: 'old', expiresAt: NOW + 100, priority: 'warning' }),
      'device',
    );
    expect(cache.activeAnnouncements(NOW).map((a) => [a.announcementId, a.priority])).toEqual([
      ['old', 'warning'],
      ['new', 'info'],
    ]);
    expect(cache.activeAnnouncements(NOW + 10).map((a) => a.announcementId)).toEqual(['old']);
    expect(cache.purgeExpiredAnnouncements(NOW + 10)).toBe(1);
    expect(cache.activeAnnouncements(NOW).map((a) => a.announcementId)).toEqual(['old']);
  });

  it('clears announcements by the topic that delivered them', () => {
    cache.upsertAnnouncement(announcement({ announcementId: 'd' }), 'device');
    cache.upsertAnnouncement(announcement({ announcementId: 's' }), `stop:${STOP_ID}`);
    expect(cache.removeAnnouncementsFrom(`stop:${STOP_ID}`)).toBe(1);
    expect(cache.activeAnnouncements(NOW).map((a) => a.announcementId)).toEqual(['d']);
  });
});
