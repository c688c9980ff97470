/** Update bundles and staged rollouts, with each targeted sign's progress. */
import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../storeEngine';

export function rollouts(types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('update_bundles')
        .addColumn('bundle_id', 'text', (c) => c.primaryKey())
        .addColumn('sha256', 'text', (c) => c.notNull().unique())
        .addColumn('size', types.epoch, (c) => c.notNull())
        .addColumn('manifest_json', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('uploaded_at', types.epoch, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('rollouts')
        .addColumn('rollout_id', 'text', (c) => c.primaryKey())
        .addColumn('bundle_id', 'text', (c) => c.notNull().references('update_bundles.bundle_id'))
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('spec_json', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('updated_at', types.epoch, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('rollouts_by_state').on('rollouts').column('state').execute();
      await db.schema
        .createTable('rollout_signs')
        .addColumn('rollout_id', 'text', (c) => c.notNull().references('rollouts.rollout_id'))
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('stop_id', 'text', (c) => c.notNull())
        .addColumn('stage', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('offer_id', 'text')
        .addColumn('offered_at', types.epoch)
        .addColumn('deadline_at', types.epoch)
        .addColumn('finished_at', types.epoch)
        .addColumn('reason', 'text')
        .addColumn('detail', 'text')
        .addColumn('booted_version', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rollout_signs_pk', ['rollout_id', 'device_id'])
        .execute();
      await db.schema
        .createIndex('rollout_signs_by_device')
        .on('rollout_signs')
        .column('device_id')
        .execute();
    },
  };
}
