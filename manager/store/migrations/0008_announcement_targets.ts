/**
 * Announcements to a set of stops, a route or the whole city: the target kind
 * allows them, and the stops a set or a route covers are kept one row each, so
 * the stops' topics find every announcement that covers them with one indexed
 * query. SQLite cannot change a CHECK in place: the table is rebuilt, in one
 * transaction, with every row and column it had.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import type { ColumnTypes, StoreEngine } from '../storeEngine';

const KINDS = sql`target_kind IN ('device', 'stop', 'stops', 'route', 'city')`;
const COLUMNS = [
  'announcement_id',
  'target_kind',
  'target_id',
  'text_en',
  'text_zh',
  'priority',
  'starts_at',
  'expires_at',
  'created_at',
  'withdrawn',
  'tts',
] as const;

export function announcementTargets(engine: StoreEngine, types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (engine === 'postgres') {
        // Named by PostgreSQL after the column whose CHECK it was (0001).
        await db.schema
          .alterTable('announcements')
          .dropConstraint('announcements_target_kind_check')
          .execute();
        await db.schema
          .alterTable('announcements')
          .addCheckConstraint('announcements_target_kind_check', KINDS)
          .execute();
      } else {
        await db.transaction().execute((trx) => rebuildSqliteTable(trx, types));
      }
      await db.schema
        .createTable('announcement_stops')
        .addColumn('announcement_id', 'text', (c) => c.notNull())
        .addColumn('stop_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('announcement_stops_pk', ['announcement_id', 'stop_id'])
        .execute();
      await db.schema
        .createIndex('announcement_stops_by_stop')
        .on('announcement_stops')
        .column('stop_id')
        .execute();
    },
  };
}

async function rebuildSqliteTable(db: Kysely<unknown>, types: ColumnTypes): Promise<void> {
  await db.schema
    .createTable('announcements_next')
    .addColumn('announcement_id', 'text', (c) => c.primaryKey())
    .addColumn('target_kind', 'text', (c) => c.notNull().check(KINDS))
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('text_en', 'text', (c) => c.notNull())
    .addColumn('text_zh', 'text')
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('starts_at', types.epoch)
    .addColumn('expires_at', types.epoch, (c) => c.notNull())
    .addColumn('created_at', types.epoch, (c) => c.notNull())
    .addColumn('withdrawn', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tts', 'text')
    .execute();
  const columns = sql.join(COLUMNS.map((c) => sql.ref(c)));
  await sql`INSERT INTO announcements_next (${columns}) SELECT ${columns} FROM announcements`.execute(
    db,
  );
  await db.schema.dropTable('announcements').execute();
  await db.schema.alterTable('announcements_next').renameTo('announcements').execute();
  await db.schema
    .createIndex('announcements_by_target')
    .on('announcements')
    .columns(['target_kind', 'target_id'])
    .execute();
  await db.schema
    .createIndex('announcements_active')
    .on('announcements')
    .columns(['withdrawn', 'expires_at'])
    .execute();
}
