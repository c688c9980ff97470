/** Operator announcements, kept so they can be listed, withdrawn and re-sent after a restart. */
import type { AnnouncementData, AnnouncementTarget, LocalizedText, SpokenText } from '../../shared';
import type { SqliteDatabase } from './database';

export interface AnnouncementRecord extends AnnouncementData {
  target: AnnouncementTarget;
  createdAt: number;
  withdrawn: boolean;
}

interface AnnouncementRow {
  announcement_id: string;
  target_kind: 'device' | 'stop';
  target_id: string;
  text_en: string;
  text_zh: string | null;
  tts: string | null;
  priority: AnnouncementData['priority'];
  starts_at: number | null;
  expires_at: number;
  created_at: number;
  withdrawn: number;
}

const PRIORITY_RANK: Record<AnnouncementData['priority'], number> = {
  emergency: 3,
  warning: 2,
  info: 1,
};

export class AnnouncementStore {
  constructor(private readonly db: SqliteDatabase) {}

  init(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS announcements (
        announcement_id TEXT PRIMARY KEY,
        target_kind TEXT NOT NULL CHECK (target_kind IN ('device', 'stop')),
        target_id TEXT NOT NULL,
        text_en TEXT NOT NULL,
        text_zh TEXT,
        priority TEXT NOT NULL,
        starts_at INTEGER,
        expires_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        withdrawn INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS announcements_by_target ON announcements(target_kind, target_id);
    `);
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(announcements)').all();
    if (!columns.some((c) => c.name === 'tts')) {
      this.db.exec('ALTER TABLE announcements ADD COLUMN tts TEXT');
    }
  }

  add(record: Omit<AnnouncementRecord, 'withdrawn'>): void {
    const [kind, id] = targetKey(record.target);
    this.db
      .prepare(
        `INSERT INTO announcements (announcement_id, target_kind, target_id, text_en, text_zh,
           priority, starts_at, expires_at, created_at, tts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        record.announcementId,
        kind,
        id,
        record.text.en,
        record.text.zh ?? null,
        record.priority,
        record.startsAt ?? null,
        record.expiresAt,
        record.createdAt,
        record.tts ? JSON.stringify(record.tts) : null,
      );
  }

  get(announcementId: string): AnnouncementRecord | undefined {
    const row = this.db
      .prepare<[string], AnnouncementRow>('SELECT * FROM announcements WHERE announcement_id = ?')
      .get(announcementId);
    return row ? toRecord(row) : undefined;
  }

  withdraw(announcementId: string): AnnouncementRecord | undefined {
    this.db
      .prepare('UPDATE announcements SET withdrawn = 1 WHERE announcement_id = ?')
      .run(announcementId);
    return this.get(announcementId);
  }

  /** Announcements not withdrawn and not expired at `now`, newest first. */
  active(now: number): AnnouncementRecord[] {
    return this.db
      .prepare<[number], AnnouncementRow>(
        `SELECT * FROM announcements WHERE withdrawn = 0 AND expires_at > ?
         ORDER BY created_at DESC`,
      )
      .all(now)
      .map(toRecord);
  }

  /**
   * The one announcement a target's retained topic should carry: MQTT keeps a
   * single retained message per topic, so the most urgent, then newest, wins.
   */
  current(target: AnnouncementTarget, now: number): AnnouncementRecord | undefined {
    const [kind, id] = targetKey(target);
    const candidates = this.active(now).filter((a) => {
      const [k, i] = targetKey(a.target);
      return k === kind && i === id;
    });
    candidates.sort(
      (a, b) => PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] || b.createdAt - a.createdAt,
    );
    return candidates[0];
  }

  /** Every target that has ever had an announcement (to clear expired retained ones). */
  targets(): AnnouncementTarget[] {
    return this.db
      .prepare<[], { target_kind: 'device' | 'stop'; target_id: string }>(
        'SELECT DISTINCT target_kind, target_id FROM announcements',
      )
      .all()
      .map((r) =>
        r.target_kind === 'device' ? { deviceId: r.target_id } : { stopId: r.target_id },
      );
  }
}

function targetKey(target: AnnouncementTarget): ['device' | 'stop', string] {
  return 'deviceId' in target ? ['device', target.deviceId] : ['stop', target.stopId];
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
