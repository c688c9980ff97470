import type { Kysely } from 'kysely';
import type { LeaseRepository } from './leaseRepository';
import type { StoreSchema } from './storeSchema';

export class KyselyLeaseRepository implements LeaseRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** One statement: the database decides between two managers asking at the same moment. */
  async acquire(name: string, holder: string, nowMs: number, ttlMs: number): Promise<boolean> {
    const taken = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: nowMs + ttlMs })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
          }))
          .where((eb) =>
            eb.or([
              eb('leases.holder', '=', eb.ref('excluded.holder')),
              eb('leases.expires_at', '<=', nowMs),
            ]),
          ),
      )
      .returning('name')
      .executeTakeFirst();
    return taken !== undefined;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.db
      .deleteFrom('leases')
      .where('name', '=', name)
      .where('holder', '=', holder)
      .execute();
  }

  async holder(name: string, nowMs: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('leases')
      .select('holder')
      .where('name', '=', name)
      .where('expires_at', '>', nowMs)
      .executeTakeFirst();
    return row?.holder;
  }
}
