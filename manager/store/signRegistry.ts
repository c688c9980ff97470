/** Registered signs, their stop, and what they last told us about themselves. */
import { DEFAULT_PANEL_PROFILE, type DeviceStatusData } from '../../shared';
import type { SqliteDatabase } from './database';

export interface SignRecord {
  deviceId: string;
  stopId: string;
  label: string | null;
  /** Panel profile id of the sign's glass. */
  panelProfile: string;
  registeredAt: number;
  /** Epoch seconds of the last status message, null when never heard from. */
  lastSeenAt: number | null;
  lastStatus: DeviceStatusData | null;
  lastFrameAt: number | null;
}

interface SignRow {
  device_id: string;
  stop_id: string;
  label: string | null;
  panel_profile: string;
  registered_at: number;
  last_seen_at: number | null;
  last_status: string | null;
  last_frame_at: number | null;
}

export class SignRegistry {
  constructor(private readonly db: SqliteDatabase) {}

  init(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS signs (
        device_id TEXT PRIMARY KEY,
        stop_id TEXT NOT NULL,
        label TEXT,
        registered_at INTEGER NOT NULL,
        last_seen_at INTEGER,
        last_status TEXT,
        last_frame_png BLOB,
        last_frame_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS signs_by_stop ON signs(stop_id);
    `);
    // Databases from before panel profiles: every sign then was the 192x64 LED.
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(signs)').all();
    if (!columns.some((c) => c.name === 'panel_profile')) {
      this.db.exec(
        `ALTER TABLE signs ADD COLUMN panel_profile TEXT NOT NULL DEFAULT '${DEFAULT_PANEL_PROFILE}'`,
      );
    }
  }

  /** Registers or moves a sign; keeps what it last reported. */
  register(
    deviceId: string,
    stopId: string,
    label: string | undefined,
    now: number,
    panelProfile?: string,
  ): SignRecord {
    this.db
      .prepare(
        `INSERT INTO signs (device_id, stop_id, label, registered_at, panel_profile)
         VALUES (?, ?, ?, ?, COALESCE(?, '${DEFAULT_PANEL_PROFILE}'))
         ON CONFLICT(device_id) DO UPDATE SET stop_id = excluded.stop_id,
           label = COALESCE(excluded.label, signs.label),
           panel_profile = COALESCE(?, signs.panel_profile)`,
      )
      .run(deviceId, stopId, label ?? null, now, panelProfile ?? null, panelProfile ?? null);
    return this.get(deviceId) as SignRecord;
  }

  get(deviceId: string): SignRecord | undefined {
    const row = this.db
      .prepare<[string], SignRow>(`SELECT ${columns} FROM signs WHERE device_id = ?`)
      .get(deviceId);
    return row ? toRecord(row) : undefined;
  }

  list(): SignRecord[] {
    return this.db
      .prepare<[], SignRow>(`SELECT ${columns} FROM signs ORDER BY device_id`)
      .all()
      .map(toRecord);
  }

  byStop(stopId: string): SignRecord[] {
    return this.db
      .prepare<[string], SignRow>(
        `SELECT ${columns} FROM signs WHERE stop_id = ? ORDER BY device_id`,
      )
      .all(stopId)
      .map(toRecord);
  }

  stopIds(): string[] {
    return this.db
      .prepare<[], { stop_id: string }>('SELECT DISTINCT stop_id FROM signs ORDER BY stop_id')
      .all()
      .map((r) => r.stop_id);
  }

  /** Returns false for a sign nobody registered: its status is kept out of the fleet. */
  recordStatus(status: DeviceStatusData, now: number): boolean {
    const result = this.db
      .prepare('UPDATE signs SET last_seen_at = ?, last_status = ? WHERE device_id = ?')
      .run(now, JSON.stringify(status), status.deviceId);
    return result.changes > 0;
  }

  recordFrame(deviceId: string, png: Buffer, renderedAt: number): boolean {
    const result = this.db
      .prepare('UPDATE signs SET last_frame_png = ?, last_frame_at = ? WHERE device_id = ?')
      .run(png, renderedAt, deviceId);
    return result.changes > 0;
  }

  lastFrame(deviceId: string): Buffer | undefined {
    const row = this.db
      .prepare<[string], { last_frame_png: Buffer | null }>(
        'SELECT last_frame_png FROM signs WHERE device_id = ?',
      )
      .get(deviceId);
    return row?.last_frame_png ?? undefined;
  }
}

const columns =
  'device_id, stop_id, label, panel_profile, registered_at, last_seen_at, last_status, last_frame_at';

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
