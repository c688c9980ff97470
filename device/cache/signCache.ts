/**
 * The sign's offline memory in one SQLite file: its configuration, the stop's
 * schedule, the last live arrivals and active announcements. A sign that boots
 * without network still knows its stop and when the next buses are due.
 * WAL with synchronous=FULL and one transaction per replace: a power cut leaves
 * either the old data or the new, never half of it.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import {
  announcementData,
  arrivalsData,
  deviceConfigData,
  scheduleData,
  type AnnouncementData,
  type ArrivalsData,
  type DeviceConfigData,
  type ScheduleData,
  type ScheduledDeparture,
} from '../../shared';
import type { z } from 'zod';

/** Where an announcement came from; clearing a topic clears what it delivered. */
export type AnnouncementSource = 'device' | 'city' | `stop:${string}`;

export type ScheduleInfo = Omit<ScheduleData, 'departures'> & { departureCount: number };

export interface SignCacheOptions {
  path: string;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, json TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS departures (
    time INTEGER NOT NULL, trip_id TEXT NOT NULL, route_id TEXT NOT NULL, route TEXT NOT NULL,
    headsign_en TEXT NOT NULL, headsign_zh TEXT
  );
  CREATE INDEX IF NOT EXISTS departures_by_time ON departures (time);
  CREATE TABLE IF NOT EXISTS announcements (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, json TEXT NOT NULL,
    expires_at INTEGER NOT NULL, received_seq INTEGER NOT NULL
  );
`;

function openChecked(file: string): Database.Database {
  const db = new Database(file);
  try {
    const result = db.pragma('quick_check', { simple: true });
    if (result !== 'ok') throw new Error(`quick_check: ${String(result)}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

interface DepartureRow {
  time: number;
  trip_id: string;
  route_id: string;
  route: string;
  headsign_en: string;
  headsign_zh: string | null;
}

/** What open() found: a healthy cache, or a broken one set aside (where, and why). */
export type CacheOpening =
  { recovered: false } | { recovered: true; movedTo: string; reason: string };

export class SignCache {
  private db: Database.Database | null = null;

  constructor(private readonly options: SignCacheOptions) {}

  /**
   * Opens the cache after a quick_check. A file that is truncated, has garbage
   * in its header or a page, or cannot be read at all is moved aside (kept for
   * a post-mortem) and the sign starts with an empty cache: everything in it
   * comes back from the manager's retained messages within seconds, whereas a
   * sign that refuses to start stays dark until someone drives out to it.
   */
  open(): CacheOpening {
    if (this.db) return { recovered: false };
    mkdirSync(path.dirname(this.options.path), { recursive: true });
    try {
      this.db = openChecked(this.options.path);
      return { recovered: false };
    } catch (err) {
      const reason = (err as Error).message;
      const movedTo = `${this.options.path}.corrupt-${Date.now()}`;
      for (const suffix of ['', '-wal', '-shm']) {
        const file = `${this.options.path}${suffix}`;
        if (existsSync(file)) renameSync(file, `${movedTo}${suffix}`);
      }
      this.db = openChecked(this.options.path);
      return { recovered: true, movedTo, reason };
    }
  }

  close(): void {
    this.db?.close();
    this.db = null;
  }

  private get handle(): Database.Database {
    if (!this.db) throw new Error('sign cache is not open');
    return this.db;
  }

  private putJson(key: string, value: unknown): void {
    this.handle
      .prepare('INSERT OR REPLACE INTO kv (key, json) VALUES (?, ?)')
      .run(key, JSON.stringify(value));
  }

  /** Reads back through the schema so a file written by an older firmware cannot smuggle in bad data. */
  private getJson<S extends z.ZodType>(key: string, schema: S): z.output<S> | null {
    const row = this.handle.prepare('SELECT json FROM kv WHERE key = ?').get(key) as
      { json: string } | undefined;
    if (!row) return null;
    try {
      const parsed = schema.safeParse(JSON.parse(row.json));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }

  saveConfig(config: DeviceConfigData): void {
    this.putJson('config', config);
  }

  config(): DeviceConfigData | null {
    return this.getJson('config', deviceConfigData);
  }

  saveArrivals(arrivals: ArrivalsData): void {
    this.putJson('arrivals', arrivals);
  }

  lastArrivals(): ArrivalsData | null {
    return this.getJson('arrivals', arrivalsData);
  }

  /** Replaces the whole schedule slice in one transaction. */
  replaceSchedule(schedule: ScheduleData): void {
    const db = this.handle;
    const insert = db.prepare(
      `INSERT INTO departures (time, trip_id, route_id, route, headsign_en, headsign_zh)
       VALUES (?, ?, ?, ?, ?, ?)`,
    );
    db.transaction(() => {
      db.prepare('DELETE FROM departures').run();
      for (const d of schedule.departures) {
        insert.run(d.time, d.tripId, d.routeId, d.route, d.headsign.en, d.headsign.zh ?? null);
      }
      const { departures: _rows, ...info } = schedule;
      this.putJson('schedule', { ...info, departures: [] });
    })();
  }

  scheduleInfo(): ScheduleInfo | null {
    const info = this.getJson('schedule', scheduleData);
    if (!info) return null;
    const { departures: _empty, ...rest } = info;
    const row = this.handle.prepare('SELECT COUNT(*) AS n FROM departures').get() as { n: number };
    return { ...rest, departureCount: row.n };
  }

  /** Departures at or after now (epoch seconds), soonest first. */
  upcomingDepartures(now: number, limit: number): ScheduledDeparture[] {
    const rows = this.handle
      .prepare(
        `SELECT time, trip_id, route_id, route, headsign_en, headsign_zh FROM departures
         WHERE time >= ? ORDER BY time, rowid LIMIT ?`,
      )
      .all(now, limit) as DepartureRow[];
    return rows.map((r) => ({
      tripId: r.trip_id,
      routeId: r.route_id,
      route: r.route,
      headsign:
        r.headsign_zh === null ? { en: r.headsign_en } : { en: r.headsign_en, zh: r.headsign_zh },
      time: r.time,
    }));
  }

  /**
   * Each source topic holds one announcement, as MQTT retains one message per
   * topic: a new one from the same source replaces the previous one.
   */
  setAnnouncement(source: AnnouncementSource, announcement: AnnouncementData): void {
    const db = this.handle;
    db.transaction(() => {
      const seq = db
        .prepare('SELECT COALESCE(MAX(received_seq), 0) + 1 AS next FROM announcements')
        .get() as { next: number };
      db.prepare('DELETE FROM announcements WHERE source = ?').run(source);
      db.prepare(
        `INSERT OR REPLACE INTO announcements (id, source, json, expires_at, received_seq)
         VALUES (?, ?, ?, ?, ?)`,
      ).run(
        announcement.announcementId,
        source,
        JSON.stringify(announcement),
        announcement.expiresAt,
        seq.next,
      );
    })();
  }

  removeAnnouncementsFrom(source: AnnouncementSource): number {
    return this.handle.prepare('DELETE FROM announcements WHERE source = ?').run(source).changes;
  }

  /** Not yet expired at now (epoch seconds), with their source, oldest first. */
  storedAnnouncements(
    now: number,
  ): Array<{ source: AnnouncementSource; announcement: AnnouncementData }> {
    const rows = this.handle
      .prepare('SELECT source, json FROM announcements WHERE expires_at > ? ORDER BY received_seq')
      .all(now) as { source: AnnouncementSource; json: string }[];
    const out: Array<{ source: AnnouncementSource; announcement: AnnouncementData }> = [];
    for (const row of rows) {
      const parsed = announcementData.safeParse(JSON.parse(row.json));
      if (parsed.success) out.push({ source: row.source, announcement: parsed.data });
    }
    return out;
  }

  purgeExpiredAnnouncements(now: number): number {
    return this.handle.prepare('DELETE FROM announcements WHERE expires_at <= ?').run(now).changes;
  }
}
