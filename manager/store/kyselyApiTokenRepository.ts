import type { Kysely, Selectable } from 'kysely';
import type { Scope } from '../../shared';
import type { ApiTokenRecord, ApiTokenRepository } from './apiTokenRepository';
import type { ApiTokensTable, StoreSchema } from './storeSchema';

const columns = [
  'token_id',
  'name',
  'username',
  'role',
  'scopes',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
] as const;
type TokenRow = Pick<Selectable<ApiTokensTable>, (typeof columns)[number]>;

export class KyselyApiTokenRepository implements ApiTokenRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async create(
    record: Omit<ApiTokenRecord, 'revokedAt' | 'lastUsedAt'>,
    tokenHash: string,
  ): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({
        token_id: record.tokenId,
        token_hash: tokenHash,
        name: record.name,
        username: record.username,
        role: record.role,
        scopes: JSON.stringify(record.scopes),
        created_at: record.createdAt,
        expires_at: record.expiresAt,
        revoked_at: null,
        last_used_at: null,
      })
      .execute();
  }

  async findUsable(tokenHash: string, now: number): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(columns)
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async get(tokenId: string): Promise<ApiTokenRecord | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .select(columns)
      .where('token_id', '=', tokenId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(username?: string): Promise<ApiTokenRecord[]> {
    let query = this.db.selectFrom('api_tokens').select(columns);
    if (username !== undefined) query = query.where('username', '=', username);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('token_id')
      .limit(1000)
      .execute();
    return rows.map(toRecord);
  }

  async revoke(tokenId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('token_id', '=', tokenId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeForOperator(username: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('username', '=', username)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async touch(tokenId: string, now: number): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('token_id', '=', tokenId)
      .execute();
  }
}

function toRecord(row: TokenRow): ApiTokenRecord {
  return {
    tokenId: row.token_id,
    name: row.name,
    username: row.username,
    role: row.role,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}
