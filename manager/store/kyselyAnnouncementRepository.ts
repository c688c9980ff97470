import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { LocalizedText, SpokenText, StoredTarget } from '../../shared';
import {
  targetKey,
  type AnnouncementPlace,
  type AnnouncementRecord,
  type AnnouncementRepository,
  type NewAnnouncement,
} from './announcementRepository';
import type { AnnouncementsTable, StoreSchema } from './storeSchema';

type AnnouncementRow = Selectable<AnnouncementsTable>;

/** Rows per INSERT of a set's stops: well inside either engine's limit on bound parameters. */
const STOPS_PER_INSERT = 500;

const coversStops = (row: AnnouncementRow): boolean =>
  row.target_kind === 'stops' || row.target_kind === 'route';

export class KyselyAnnouncementRepository implements AnnouncementRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  /** The record and the stops it covers together: a reader never sees a set without its stops. */
  async add(record: NewAnnouncement): Promise<void> {
    const [kind, id] = targetKey(record.target);
    const stopIds = 'stopIds' in record.target ? record.target.stopIds : [];
    const insert = async (trx: Kysely<StoreSchema>): Promise<void> => {
      await trx
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
      for (let i = 0; i < stopIds.length; i += STOPS_PER_INSERT) {
        await trx
          .insertInto('announcement_stops')
          .values(
            stopIds
              .slice(i, i + STOPS_PER_INSERT)
              .map((stopId) => ({ announcement_id: record.announcementId, stop_id: stopId })),
          )
          .execute();
      }
    };
    // One statement needs no transaction of its own.
    if (stopIds.length === 0) return insert(this.db);
    await this.db.transaction().execute(insert);
  }

  async get(announcementId: string): Promise<AnnouncementRecord | undefined> {
    const row = await this.db
      .selectFrom('announcements')
      .selectAll()
      .where('announcement_id', '=', announcementId)
      .executeTakeFirst();
    return row ? (await this.withStops([row]))[0] : undefined;
  }

  async withdraw(announcementId: string): Promise<AnnouncementRecord | undefined> {
    await this.db
      .updateTable('announcements')
      .set({ withdrawn: 1 })
      .where('announcement_id', '=', announcementId)
      .execute();
    return this.get(announcementId);
  }

  async withdrawFor(target: { deviceId: string } | { stopId: string }): Promise<number> {
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
    return this.withStops(rows);
  }

  async activeFor(target: StoredTarget, now: number): Promise<AnnouncementRecord[]> {
    const [kind, id] = targetKey(target);
    const stopIds =
      'stopId' in target ? [target.stopId] : 'stopIds' in target ? target.stopIds : [];
    const rows = await this.db
      .selectFrom('announcements')
      .selectAll()
      .where((eb) =>
        stopIds.length === 0
          ? eb.and([eb('target_kind', '=', kind), eb('target_id', '=', id)])
          : sharesAStop(eb, stopIds),
      )
      .where('withdrawn', '=', 0)
      .where('expires_at', '>', now)
      .execute();
    return this.withStops(rows);
  }

  async targets(): Promise<AnnouncementPlace[]> {
    const rows = await this.db
      .selectFrom('announcements')
      .select(['target_kind', 'target_id'])
      .where('target_kind', 'in', ['device', 'stop', 'city'])
      .distinct()
      .execute();
    const covered = await this.db
      .selectFrom('announcement_stops')
      .select('stop_id')
      .distinct()
      .execute();
    const places: AnnouncementPlace[] = rows.map((r) =>
      r.target_kind === 'device'
        ? { deviceId: r.target_id }
        : r.target_kind === 'stop'
          ? { stopId: r.target_id }
          : { city: true },
    );
    const single = new Set(rows.filter((r) => r.target_kind === 'stop').map((r) => r.target_id));
    for (const { stop_id } of covered) if (!single.has(stop_id)) places.push({ stopId: stop_id });
    return places;
  }

  /** Records for rows, a set's or route's with its stops: one more query, only when there are such rows. */
  private async withStops(rows: AnnouncementRow[]): Promise<AnnouncementRecord[]> {
    const ids = rows.filter(coversStops).map((r) => r.announcement_id);
    const stopsOf = new Map<string, string[]>();
    if (ids.length > 0) {
      const members = await this.db
        .selectFrom('announcement_stops')
        .select(['announcement_id', 'stop_id'])
        .where('announcement_id', 'in', ids)
        .orderBy('stop_id')
        .execute();
      for (const { announcement_id, stop_id } of members) {
        const list = stopsOf.get(announcement_id);
        if (list) list.push(stop_id);
        else stopsOf.set(announcement_id, [stop_id]);
      }
    }
    return rows.map((row) => toRecord(row, stopsOf.get(row.announcement_id) ?? []));
  }
}

/** Aimed at one of `stopIds`, or at a set or route covering one of them. */
function sharesAStop(eb: ExpressionBuilder<StoreSchema, 'announcements'>, stopIds: string[]) {
  return eb.or([
    eb.and([eb('target_kind', '=', 'stop'), eb('target_id', 'in', stopIds)]),
    eb(
      'announcement_id',
      'in',
      eb
        .selectFrom('announcement_stops')
        .select('announcement_stops.announcement_id')
        .where('announcement_stops.stop_id', 'in', stopIds),
    ),
  ]);
}

function targetOf(row: AnnouncementRow, stopIds: string[]): StoredTarget {
  switch (row.target_kind) {
    case 'device':
      return { deviceId: row.target_id };
    case 'stop':
      return { stopId: row.target_id };
    case 'stops':
      return { stopIds };
    case 'route':
      return { routeId: row.target_id, stopIds };
    case 'city':
      return { city: true };
  }
}

function toRecord(row: AnnouncementRow, stopIds: string[]): AnnouncementRecord {
  const text: LocalizedText = { en: row.text_en };
  if (row.text_zh !== null) text.zh = row.text_zh;
  const record: AnnouncementRecord = {
    announcementId: row.announcement_id,
    target: targetOf(row, stopIds),
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
