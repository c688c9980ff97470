import type { Kysely } from 'kysely';
import type { StopRoundRepository } from './stopRoundRepository';
import type { StoreSchema } from './storeSchema';

/** Three parameters a row: well inside SQLite's and PostgreSQL's limits per statement. */
const ROWS_PER_STATEMENT = 500;

export class KyselyStopRoundRepository implements StopRoundRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async claim(stopIds: readonly string[], round: number, memberId: string): Promise<string[]> {
    const held: string[] = [];
    for (let i = 0; i < stopIds.length; i += ROWS_PER_STATEMENT) {
      const rows = stopIds
        .slice(i, i + ROWS_PER_STATEMENT)
        .map((stopId) => ({ stop_id: stopId, round, member_id: memberId }));
      // The upsert returns only rows it inserted or updated: the stops this member now holds.
      const claimed = await this.db
        .insertInto('stop_rounds')
        .values(rows)
        .onConflict((oc) =>
          oc
            .column('stop_id')
            .doUpdateSet((eb) => ({
              round: eb.ref('excluded.round'),
              member_id: eb.ref('excluded.member_id'),
            }))
            .where((eb) =>
              eb.or([
                eb('stop_rounds.round', '<', eb.ref('excluded.round')),
                eb.and([
                  eb('stop_rounds.round', '=', eb.ref('excluded.round')),
                  eb('stop_rounds.member_id', '=', eb.ref('excluded.member_id')),
                ]),
              ]),
            ),
        )
        .returning('stop_id')
        .execute();
      for (const row of claimed) held.push(row.stop_id);
    }
    return held;
  }
}
