/** Operators, their sessions and API tokens, sign credentials and claim codes, and the audit log. */
import type { Kysely, Migration } from 'kysely';
import type { ColumnTypes, StoreEngine } from '../storeEngine';

export function accessControl(engine: StoreEngine, types: ColumnTypes): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('operators')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('password_changed_at', types.epoch, (c) => c.notNull())
        .addColumn('disabled_at', types.epoch)
        .execute();

      await db.schema
        .createTable('operator_sessions')
        .addColumn('session_hash', 'text', (c) => c.primaryKey())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('expires_at', types.epoch, (c) => c.notNull())
        .addColumn('last_seen_at', types.epoch, (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('operator_sessions_by_username')
        .on('operator_sessions')
        .column('username')
        .execute();
      await db.schema
        .createIndex('operator_sessions_by_expiry')
        .on('operator_sessions')
        .column('expires_at')
        .execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('token_id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('expires_at', types.epoch)
        .addColumn('revoked_at', types.epoch)
        .addColumn('last_used_at', types.epoch)
        .execute();
      await db.schema
        .createIndex('api_tokens_by_username')
        .on('api_tokens')
        .column('username')
        .execute();

      await db.schema
        .createTable('sign_credentials')
        .addColumn('device_id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('issued_at', types.epoch, (c) => c.notNull())
        .addColumn('revoked_at', types.epoch)
        .addColumn('claimed_from', 'text')
        .execute();

      await db.schema
        .createTable('claim_codes')
        .addColumn('code_hash', 'text', (c) => c.primaryKey())
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('created_at', types.epoch, (c) => c.notNull())
        .addColumn('expires_at', types.epoch, (c) => c.notNull())
        .addColumn('used_at', types.epoch)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('claim_codes_by_device')
        .on('claim_codes')
        .column('device_id')
        .execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('event_id', engine === 'sqlite' ? 'integer' : 'bigserial', (c) =>
          engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('at', types.epoch, (c) => c.notNull())
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('address', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_kind', 'text')
        .addColumn('target_id', 'text')
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .execute();
      for (const column of ['at', 'actor', 'action', 'target_id'] as const) {
        await db.schema
          .createIndex(`audit_events_by_${column}`)
          .on('audit_events')
          .column(column)
          .execute();
      }
    },
  };
}
