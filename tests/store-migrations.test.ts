/**
 * The shared store's schema comes up to date on start, on both engines, once:
 * a second start applies nothing and loses nothing; managers starting together
 * on one PostgreSQL migrate it once; a SQLite file from before migrations is adopted.
 */
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { expect, it } from 'vitest';
import { storeMigrations } from '../manager/store/migrations';
import { openSharedStore } from '../manager/store/sharedStore';
import type { StoreLocation } from '../manager/store/storeEngine';
import { describeEachEngine } from './helpers/storeEngines';

describeEachEngine('store migrations', ({ engine, freshLocation }) => {
  it('applies every migration in order on a new store, and none on the next start', async () => {
    const location = await freshLocation();
    const first = await openSharedStore(location);
    expect(first.appliedMigrations).toEqual(Object.keys(storeMigrations(engine)).sort());
    await first.signs.register('kiosk-1', 'CEN', 'kept', 1);
    await first.close();

    const second = await openSharedStore(location);
    try {
      expect(second.appliedMigrations).toEqual([]);
      expect((await second.signs.get('kiosk-1'))?.label).toBe('kept');
    } finally {
      await second.close();
    }
  });

  it('keeps every announcement when a store that applied 0001 to 0007 takes the target kinds', async () => {
    const location = await freshLocation();
    const db = openKysely(location);
    try {
      const before = Object.entries(storeMigrations(engine)).filter(([name]) => name < '0008');
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => Object.fromEntries(before) },
      });
      const { error } = await migrator.migrateToLatest();
      expect(error).toBeUndefined();
      await sql`INSERT INTO announcements (announcement_id, target_kind, target_id, text_en,
        priority, expires_at, created_at, tts) VALUES ('old', 'stop', 'CEN', 'kept', 'warning',
        99, 1, '{"en":"kept"}')`.execute(db);
    } finally {
      await db.destroy();
    }

    const store = await openSharedStore(location);
    try {
      expect(store.appliedMigrations).toEqual(['0008_announcement_targets']);
      expect(await store.announcements.get('old')).toEqual({
        announcementId: 'old',
        target: { stopId: 'CEN' },
        text: { en: 'kept' },
        tts: { en: 'kept' },
        priority: 'warning',
        expiresAt: 99,
        createdAt: 1,
        withdrawn: false,
      });
      await store.announcements.add({
        announcementId: 'city',
        target: { city: true },
        text: { en: 'new kind' },
        priority: 'emergency',
        expiresAt: 99,
        createdAt: 2,
      });
      expect((await store.announcements.active(10)).map((a) => a.announcementId)).toEqual([
        'city',
        'old',
      ]);
      // The rebuilt table still answers the publishing pass from its index.
      expect(await store.announcements.activeFor({ stopId: 'CEN' }, 10)).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  // Engine-specific cases are registered only for their engine: nothing shows up as skipped.
  if (engine === 'postgres') {
    it('migrates once when several managers start on one database together', async () => {
      const location = await freshLocation();
      const stores = await Promise.all([1, 2, 3].map(() => openSharedStore(location)));
      try {
        const applied = stores.flatMap((s) => s.appliedMigrations);
        expect(applied.sort()).toEqual(Object.keys(storeMigrations(engine)).sort());
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  }

  if (engine === 'sqlite') {
    it('adopts the tables of a manager file written before the store had migrations', async () => {
      const location = await freshLocation();
      if (location.engine !== 'sqlite') throw new Error('expected a SQLite location');
      // The tables exactly as earlier releases created them, with a sign and an announcement.
      const legacy = new Database(location.file);
      legacy.exec(`
        CREATE TABLE signs (device_id TEXT PRIMARY KEY, stop_id TEXT NOT NULL, label TEXT,
          registered_at INTEGER NOT NULL, last_seen_at INTEGER, last_status TEXT,
          last_frame_png BLOB, last_frame_at INTEGER);
        CREATE INDEX signs_by_stop ON signs(stop_id);
        CREATE TABLE announcements (announcement_id TEXT PRIMARY KEY,
          target_kind TEXT NOT NULL CHECK (target_kind IN ('device', 'stop')),
          target_id TEXT NOT NULL, text_en TEXT NOT NULL, text_zh TEXT, priority TEXT NOT NULL,
          starts_at INTEGER, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
          withdrawn INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX announcements_by_target ON announcements(target_kind, target_id);
        INSERT INTO signs (device_id, stop_id, label, registered_at) VALUES ('old-1', 'CEN', 'x', 5);
        INSERT INTO announcements VALUES ('a1', 'stop', 'CEN', 'hello', NULL, 'info', NULL, 99, 1, 0);
      `);
      legacy.close();

      const store = await openSharedStore(location);
      try {
        expect((await store.signs.get('old-1'))?.label).toBe('x');
        expect((await store.announcements.active(10)).map((a) => a.announcementId)).toEqual(['a1']);
        expect(await store.feedVersions.latest()).toBeUndefined();
      } finally {
        await store.close();
      }
    });
  }
});

/** A bare connection to a location, to bring it to an older schema by hand. */
function openKysely(location: StoreLocation): Kysely<unknown> {
  return new Kysely<unknown>({
    dialect:
      location.engine === 'sqlite'
        ? new SqliteDialect({ database: new Database(location.file) })
        : new PostgresDialect({ pool: new pg.Pool({ connectionString: location.url, max: 1 }) }),
  });
}
