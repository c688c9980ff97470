/**
 * Signs and announcements. IF NOT EXISTS adopts the tables of SQLite files
 * written before the store had migrations: their columns are these.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes } from '../storeEngine';

export function signsAndAnnouncements(types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('signs')
        .ifNotExists()
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('stop_id', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('registered_at', types.epoch, (c) => c.notNull())
        .addColumn('last_seen_at', types.epoch)
        .addColumn('last_status', 'text')
        .addColumn('last_frame_png', types.bytes)
        .addColumn('last_frame_at', types.epoch)
        .execute();
      await db.schema
        .createIndex('signs_by_stop')
        .ifNotExists()
        .on('signs')
        .column('stop_id')
        .execute();

      await db.schema
        .createTable('announcements')
        .ifNotExists()
        .addColumn('announcement_id', 'text', (c) => c.primaryKey())
        .addColumn('target_kind', 'text', (c) =>
          c.notNull().check(sql`target_kind IN ('device', 'stop')`),
        )
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('text_en', 'text', (c) => c.notNull())
        .addColumn('text_zh', 'text')
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('starts_at', types.epoch)
        .addColumn('expires_at', types.epoch, (c) => c.notNull())
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('withdrawn', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('announcements_by_target')
        .ifNotExists()
        .on('announcements')
        .columns(['target_kind', 'target_id'])
        .execute();
      // Every publishing pass asks for the active ones: keep that off a full scan of the history.
      await db.schema
        .createIndex('announcements_active')
        .ifNotExists()
        .on('announcements')
        .columns(['withdrawn', 'expires_at'])
        .execute();
    },
  };
}
