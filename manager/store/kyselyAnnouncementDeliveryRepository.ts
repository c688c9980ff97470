import type { Kysely } from 'kysely';
import type { AnnouncementDeliveryRepository } from './announcementDeliveryRepository';
import type { StoreSchema } from './storeSchema';

export class KyselyAnnouncementDeliveryRepository implements AnnouncementDeliveryRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** One statement, so of two managers recording the same change only one sees it change. */
  async record(topic: string, announcementId: string): Promise<boolean> {
    const changed = await this.db
      .insertInto('announcement_deliveries')
      .values({ topic, announcement_id: announcementId })
      .onConflict((oc) =>
        oc
          .column('topic')
          .doUpdateSet((eb) => ({ announcement_id: eb.ref('excluded.announcement_id') }))
          .where((eb) =>
            eb('announcement_deliveries.announcement_id', '<>', eb.ref('excluded.announcement_id')),
          ),
      )
      .returning('topic')
      .executeTakeFirst();
    return changed !== undefined;
  }

  async overwrite(topic: string, announcementId: string): Promise<void> {
    await this.db
      .insertInto('announcement_deliveries')
      .values({ topic, announcement_id: announcementId })
      .onConflict((oc) =>
        oc
          .column('topic')
          .doUpdateSet((eb) => ({ announcement_id: eb.ref('excluded.announcement_id') })),
      )
      .execute();
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
