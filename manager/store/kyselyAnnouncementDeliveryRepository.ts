import type { Kysely } from 'kysely';
import type {
  AnnouncementDelivery,
  AnnouncementDeliveryRepository,
} from './announcementDeliveryRepository';
import type { StoreSchema } from './storeSchema';

/** Rows per statement: two parameters each, far inside both engines' limits. */
const BATCH = 500;

/**
 * One row per topic (the last one given wins): a statement may not touch a row
 * twice. In topic order, so two managers writing overlapping batches lock rows
 * in the same order and cannot deadlock.
 */
function rowsOf(deliveries: readonly AnnouncementDelivery[]) {
  const byTopic = new Map(deliveries.map((d) => [d.topic, d.announcementId]));
  return [...byTopic]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topic, announcementId]) => ({
      topic,
      announcement_id: announcementId,
    }));
}

function batches<T>(rows: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += BATCH) out.push(rows.slice(i, i + BATCH));
  return out;
}

export class KyselyAnnouncementDeliveryRepository implements AnnouncementDeliveryRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** Each row's change is one upsert, so of two managers recording the same change only one sees it change. */
  async record(deliveries: readonly AnnouncementDelivery[]): Promise<Set<string>> {
    const changed = new Set<string>();
    for (const rows of batches(rowsOf(deliveries))) {
      const returned = await this.db
        .insertInto('announcement_deliveries')
        .values(rows)
        .onConflict((oc) =>
          oc
            .column('topic')
            .doUpdateSet((eb) => ({ announcement_id: eb.ref('excluded.announcement_id') }))
            .where((eb) =>
              eb(
                'announcement_deliveries.announcement_id',
                '<>',
                eb.ref('excluded.announcement_id'),
              ),
            ),
        )
        .returning('topic')
        .execute();
      for (const row of returned) changed.add(row.topic);
    }
    return changed;
  }

  async overwrite(deliveries: readonly AnnouncementDelivery[]): Promise<void> {
    for (const rows of batches(rowsOf(deliveries))) {
      await this.db
        .insertInto('announcement_deliveries')
        .values(rows)
        .onConflict((oc) =>
          oc
            .column('topic')
            .doUpdateSet((eb) => ({ announcement_id: eb.ref('excluded.announcement_id') })),
        )
        .execute();
    }
  }

  async carrying(): Promise<Map<string, string>> {
    const rows = await this.db
      .selectFrom('announcement_deliveries')
      .select(['topic', 'announcement_id'])
      .where('announcement_id', '<>', '')
      .execute();
    return new Map(rows.map((r) => [r.topic, r.announcement_id]));
  }
}
