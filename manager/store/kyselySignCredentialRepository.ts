import type { Kysely, Selectable } from 'kysely';
import type { SignCredentialRecord, SignCredentialRepository } from './signCredentialRepository';
import type { SignCredentialsTable, StoreSchema } from './storeSchema';

export class KyselySignCredentialRepository implements SignCredentialRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async issue(
    deviceId: string,
    secretHash: string,
    now: number,
    claimedFrom: string | null,
  ): Promise<void> {
    await this.db
      .insertInto('sign_credentials')
      .values({
        device_id: deviceId,
        secret_hash: secretHash,
        issued_at: now,
        revoked_at: null,
        claimed_from: claimedFrom,
      })
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet({
          secret_hash: secretHash,
          issued_at: now,
          revoked_at: null,
          claimed_from: claimedFrom,
        }),
      )
      .execute();
  }

  async get(deviceId: string): Promise<SignCredentialRecord | undefined> {
    const row = await this.db
      .selectFrom('sign_credentials')
      .selectAll()
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async getMany(deviceIds: string[]): Promise<Map<string, SignCredentialRecord>> {
    const found = new Map<string, SignCredentialRecord>();
    // Bounded IN lists: PostgreSQL and SQLite both cap bound parameters.
    for (let i = 0; i < deviceIds.length; i += 500) {
      const slice = deviceIds.slice(i, i + 500);
      if (slice.length === 0) continue;
      const rows = await this.db
        .selectFrom('sign_credentials')
        .selectAll()
        .where('device_id', 'in', slice)
        .execute();
      for (const row of rows) found.set(row.device_id, toRecord(row));
    }
    return found;
  }

  async revoke(deviceId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('sign_credentials')
      .set({ revoked_at: now })
      .where('device_id', '=', deviceId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async remove(deviceId: string): Promise<void> {
    await this.db.deleteFrom('sign_credentials').where('device_id', '=', deviceId).execute();
  }
}

function toRecord(row: Selectable<SignCredentialsTable>): SignCredentialRecord {
  return {
    deviceId: row.device_id,
    secretHash: row.secret_hash,
    issuedAt: row.issued_at,
    revokedAt: row.revoked_at,
    claimedFrom: row.claimed_from,
  };
}
