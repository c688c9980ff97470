/**
 * What managers sharing one broker agree on through the store: who is alive,
 * who holds a singleton job, who publishes each stop in a round, and which
 * announcement each retained topic carries.
 */
import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes } from '../storeEngine';

export function managerCluster(types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('cluster_members')
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('member_id', 'text', (c) => c.notNull())
        .addColumn('joined_at', types.epoch, (c) => c.notNull())
        .addColumn('expires_at', types.epoch, (c) => c.notNull())
        .addPrimaryKeyConstraint('cluster_members_pk', ['group_name', 'member_id'])
        .execute();
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', types.epoch, (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('stop_rounds')
        .addColumn('stop_id', 'text', (c) => c.primaryKey())
        .addColumn('round', types.epoch, (c) => c.notNull())
        .addColumn('member_id', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('announcement_deliveries')
        .addColumn('topic', 'text', (c) => c.primaryKey())
        .addColumn('announcement_id', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
