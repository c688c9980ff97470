/**
 * The tables of the manager's shared store, as Kysely sees them. Both engines
 * hold the same columns: epoch seconds are INTEGER (SQLite) or BIGINT
 * (PostgreSQL, read back as numbers), flags are 0/1 integers, bytes are BLOB
 * or BYTEA. A new store adds its tables here and a migration beside them.
 */
import type { Generated } from 'kysely';

export interface SignsTable {
  device_id: string;
  stop_id: string;
  label: string | null;
  registered_at: number;
  last_seen_at: number | null;
  /** The sign's last status message, as JSON. */
  last_status: string | null;
  last_frame_png: Buffer | null;
  last_frame_at: number | null;
}

export interface AnnouncementsTable {
  announcement_id: string;
  target_kind: 'device' | 'stop';
  target_id: string;
  text_en: string;
  text_zh: string | null;
  priority: 'info' | 'warning' | 'emergency';
  starts_at: number | null;
  expires_at: number;
  created_at: number;
  withdrawn: Generated<number>;
}

export interface FeedVersionsTable {
  feed_version_id: Generated<number>;
  sha256: string;
  source: string;
  byte_length: number;
  recorded_at: number;
  /** The ImportSummary of the import that produced this version, as JSON. */
  summary_json: string;
}

/** A feed's zip in pieces of bounded size, so no single row or query carries a whole city feed. */
export interface FeedChunksTable {
  feed_version_id: number;
  seq: number;
  bytes: Buffer;
}

export interface StoreSchema {
  signs: SignsTable;
  announcements: AnnouncementsTable;
  feed_versions: FeedVersionsTable;
  feed_chunks: FeedChunksTable;
}
