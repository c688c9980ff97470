import type { Kysely, Selectable } from 'kysely';
import type { DeviceStatusData } from '../../shared';
import type { SignRecord, SignRepository, StatusReport } from './signRepository';
import type { SignsTable, StoreSchema } from './storeSchema';

/** Everything but the frame, which only its own endpoint reads. */
const columns = [
  'device_id',
  'stop_id',
  'label',
  'panel_profile',
  'registered_at',
  'last_seen_at',
  'last_status',
  'last_frame_at',
] as const;

type SignRow = Pick<Selectable<SignsTable>, (typeof columns)[number]>;

export class KyselySignRepository implements SignRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async register(
    deviceId: string,
    stopId: string,
    label: string | undefined,
    now: number,
    panelProfile?: string,
  ): Promise<SignRecord> {
    await this.db
      .insertInto('signs')
      .values({
        device_id: deviceId,
        stop_id: stopId,
        label: label ?? null,
        registered_at: now,
        ...(panelProfile === undefined ? {} : { panel_profile: panelProfile }),
      })
      .onConflict((oc) =>
        oc.column('device_id').doUpdateSet((eb) => ({
          stop_id: eb.ref('excluded.stop_id'),
          label: eb.fn.coalesce('excluded.label', 'signs.label'),
          ...(panelProfile === undefined
            ? {}
            : { panel_profile: eb.ref('excluded.panel_profile') }),
        })),
      )
      .execute();
    const sign = await this.get(deviceId);
    if (!sign) throw new Error(`sign ${deviceId} vanished right after it was registered`);
    return sign;
  }

  async get(deviceId: string): Promise<SignRecord | undefined> {
    const row = await this.db
      .selectFrom('signs')
      .select(columns)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(): Promise<SignRecord[]> {
    const rows = await this.db.selectFrom('signs').select(columns).orderBy('device_id').execute();
    return rows.map(toRecord);
  }

  async byStop(stopId: string): Promise<SignRecord[]> {
    const rows = await this.db
      .selectFrom('signs')
      .select(columns)
      .where('stop_id', '=', stopId)
      .orderBy('device_id')
      .execute();
    return rows.map(toRecord);
  }

  async stopIds(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('signs')
      .select('stop_id')
      .distinct()
      .orderBy('stop_id')
      .execute();
    return rows.map((r) => r.stop_id);
  }

  async recordStatus(status: DeviceStatusData, now: number): Promise<boolean> {
    return (await this.recordStatuses([{ status, seenAt: now }])).length === 0;
  }

  async recordStatuses(reports: readonly StatusReport[]): Promise<string[]> {
    if (reports.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const unregistered: string[] = [];
      for (const { status, seenAt } of reports) {
        const result = await trx
          .updateTable('signs')
          .set({ last_seen_at: seenAt, last_status: JSON.stringify(status) })
          .where('device_id', '=', status.deviceId)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) unregistered.push(status.deviceId);
      }
      return unregistered;
    });
  }

  async recordFrame(deviceId: string, png: Buffer, renderedAt: number): Promise<boolean> {
    const result = await this.db
      .updateTable('signs')
      .set({ last_frame_png: png, last_frame_at: renderedAt })
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async lastFrame(deviceId: string): Promise<Buffer | undefined> {
    const row = await this.db
      .selectFrom('signs')
      .select('last_frame_png')
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row?.last_frame_png ?? undefined;
  }

  async remove(deviceId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('signs')
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toRecord(row: SignRow): SignRecord {
  return {
    deviceId: row.device_id,
    stopId: row.stop_id,
    label: row.label,
    panelProfile: row.panel_profile,
    registeredAt: row.registered_at,
    lastSeenAt: row.last_seen_at,
    lastStatus: row.last_status ? (JSON.parse(row.last_status) as DeviceStatusData) : null,
    lastFrameAt: row.last_frame_at,
  };
}
