import type { Kysely, Selectable } from 'kysely';
import type { SessionRecord, SessionRepository } from './sessionRepository';
import type { OperatorSessionsTable, StoreSchema } from './storeSchema';

export class KyselySessionRepository implements SessionRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async create(record: SessionRecord): Promise<void> {
    await this.db
      .insertInto('operator_sessions')
      .values({
        session_hash: record.sessionHash,
        username: record.username,
        csrf_token: record.csrfToken,
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        last_seen_at: record.lastSeenAt,
        address: record.address,
      })
      .execute();
  }

  async find(sessionHash: string, now: number): Promise<SessionRecord | undefined> {
    const row = await this.db
      .selectFrom('operator_sessions')
      .selectAll()
      .where('session_hash', '=', sessionHash)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async touch(sessionHash: string, now: number, expiresAt: number): Promise<void> {
    await this.db
      .updateTable('operator_sessions')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('session_hash', '=', sessionHash)
      .execute();
  }

  async remove(sessionHash: string): Promise<void> {
    await this.db.deleteFrom('operator_sessions').where('session_hash', '=', sessionHash).execute();
  }

  async removeForOperator(username: string): Promise<number> {
    const result = await this.db
      .deleteFrom('operator_sessions')
      .where('username', '=', username)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async removeExpired(now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('operator_sessions')
      .where('expires_at', '<=', now)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRecord(row: Selectable<OperatorSessionsTable>): SessionRecord {
  return {
    sessionHash: row.session_hash,
    username: row.username,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastSeenAt: row.last_seen_at,
    address: row.address,
  };
}
