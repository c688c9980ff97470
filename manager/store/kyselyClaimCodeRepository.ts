import type { Kysely } from 'kysely';
import type {
  ClaimCodeRepository,
  ClaimOutcome,
  NewClaimCode,
  PendingClaim,
} from './claimCodeRepository';
import type { StoreSchema } from './storeSchema';

export class KyselyClaimCodeRepository implements ClaimCodeRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async issue(codes: NewClaimCode[]): Promise<void> {
    if (codes.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < codes.length; i += 500) {
        const slice = codes.slice(i, i + 500);
        await trx
          .deleteFrom('claim_codes')
          .where(
            'device_id',
            'in',
            slice.map((c) => c.deviceId),
          )
          .where('used_at', 'is', null)
          .execute();
        await trx
          .insertInto('claim_codes')
          .values(
            slice.map((c) => ({
              code_hash: c.codeHash,
              device_id: c.deviceId,
              created_at: c.createdAt,
              expires_at: c.expiresAt,
              used_at: null,
              created_by: c.createdBy,
            })),
          )
          .execute();
      }
    });
  }

  async consume(codeHash: string, now: number): Promise<ClaimOutcome> {
    // One conditional UPDATE: of two racing claims, exactly one changes the row.
    const result = await this.db
      .updateTable('claim_codes')
      .set({ used_at: now })
      .where('code_hash', '=', codeHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    const row = await this.db
      .selectFrom('claim_codes')
      .select(['device_id', 'used_at', 'expires_at'])
      .where('code_hash', '=', codeHash)
      .executeTakeFirst();
    if (!row) return { ok: false, reason: 'unknown' };
    if (result.numUpdatedRows > 0n) return { ok: true, deviceId: row.device_id };
    return { ok: false, reason: row.used_at !== null ? 'used' : 'expired' };
  }

  async pending(deviceId: string, now: number): Promise<PendingClaim | undefined> {
    return (await this.pendingMany([deviceId], now)).get(deviceId);
  }

  async pendingMany(deviceIds: string[], now: number): Promise<Map<string, PendingClaim>> {
    const found = new Map<string, PendingClaim>();
    for (let i = 0; i < deviceIds.length; i += 500) {
      const slice = deviceIds.slice(i, i + 500);
      if (slice.length === 0) continue;
      const rows = await this.db
        .selectFrom('claim_codes')
        .select(['device_id', 'created_at', 'expires_at'])
        .where('device_id', 'in', slice)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .execute();
      for (const row of rows) {
        found.set(row.device_id, {
          deviceId: row.device_id,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        });
      }
    }
    return found;
  }

  async removeForSign(deviceId: string): Promise<void> {
    await this.db.deleteFrom('claim_codes').where('device_id', '=', deviceId).execute();
  }
}
