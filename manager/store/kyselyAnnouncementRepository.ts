import type { Kysely, Selectable } from 'kysely';
import type { AnnouncementTarget, LocalizedText, SpokenText } from '../../shared';
import {
  targetKey,
  type AnnouncementRecord,
  type AnnouncementRepository,
  type NewAnnouncement,
} from './announcementRepository';
import type { AnnouncementsTable, StoreSchema } from './storeSchema';

type AnnouncementRow = Selectable<AnnouncementsTable>;

export class KyselyAnnouncementRepository implements AnnouncementRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async add(record: NewAnnouncement): Promise<void> {
    const [kind, id] = targetKey(record.target);
    await this.db
      .insertInto('announcements')
      .values({
        announcement_id: record.announcementId,
        target_kind: kind,
        target_id: id,
        text_en: record.text.en,
        text_zh: record.text.zh ?? null,
        priority: record.priority,
        starts_at: record.startsAt ?? null,
        expires_at: record.expiresAt,
        created_at: record.createdAt,
        tts: record.tts ? JSON.stringify(record.tts) : null,
      })
      .execute();
  }

  async get(announcementId: string): Promise<AnnouncementRecord | undefined> {
    const row = await this.db
      .selectFrom('announcements')
      .selectAll()
      .where('announcement_id', '=', announcementId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async withdraw(announcementId: string): Promise<AnnouncementRecord | undefined> {
    await this.db
      .updateTable('announcements')
      .set({ withdrawn: 1 })
      .where('announcement_id', '=', announcementId)
      .execute();
    return this.get(announcementId);
  }

  async withdrawFor(target: AnnouncementTarget): Promise<number> {
    const [kind, id] = targetKey(target);
    const result = await this.db
      .updateTable('announcements')
      .set({ withdrawn: 1 })
      .where('target_kind', '=', kind)
      .where('target_id', '=', id)
      .where('withdrawn', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async active(now: number): Promise<AnnouncementRecord[]> {
    const rows = await this.db
      .selectFrom('announcements')
      .selectAll()
      .where('withdrawn', '=', 0)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .orderBy('announcement_id', 'desc')
      .execute();
    return rows.map(toRecord);
  }

  async activeFor(target: AnnouncementTarget, now: number): Promise<AnnouncementRecord[]> {
    const [kind, id] = targetKey(target);
    const rows = await this.db
      .selectFrom('announcements')
      .selectAll()
      .where('target_kind', '=', kind)
      .where('target_id', '=', id)
      .where('withdrawn', '=', 0)
      .where('expires_at', '>', now)
      .execute();
    return rows.map(toRecord);
  }

  async targets(): Promise<AnnouncementTarget[]> {
    const rows = await this.db
      .selectFrom('announcements')
      .select(['target_kind', 'target_id'])
      .distinct()
      .execute();
    return rows.map((r) =>
      r.target_kind === 'device' ? { deviceId: r.target_id } : { stopId: r.target_id },
    );
  }
}

function toRecord(row: AnnouncementRow): AnnouncementRecord {
  const text: LocalizedText = { en: row.text_en };
  if (row.text_zh !== null) text.zh = row.text_zh;
  const record: AnnouncementRecord = {
    announcementId: row.announcement_id,
    target: row.target_kind === 'device' ? { deviceId: row.target_id } : { stopId: row.target_id },
    text,
    priority: row.priority,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    withdrawn: row.withdrawn === 1,
  };
  if (row.starts_at !== null) record.startsAt = row.starts_at;
  if (row.tts !== null) record.tts = JSON.parse(row.tts) as SpokenText;
  return record;
}
