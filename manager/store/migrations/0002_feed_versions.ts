/** Imported GTFS feeds: which one is in force, and its zip, so every manager can build its timetable. */
import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes, StoreEngine } from '../storeEngine';

export function feedVersions(engine: StoreEngine, types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('feed_versions')
        .addColumn('feed_version_id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
          engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('byte_length', types.epoch, (c) => c.notNull())
        .addColumn('recorded_at', types.epoch, (c) => c.notNull())
        .addColumn('summary_json', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('feed_chunks')
        .addColumn('feed_version_id', types.epoch, (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('bytes', types.bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('feed_chunks_pk', ['feed_version_id', 'seq'])
        .execute();
    },
  };
}
