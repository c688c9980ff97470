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
  /** Panel profile id of the sign's glass. */
  panel_profile: Generated<string>;
  registered_at: number;
  last_seen_at: number | null;
  /** The sign's last status message, as JSON. */
  last_status: string | null;
  last_frame_png: Buffer | null;
  last_frame_at: number | null;
}

export interface AnnouncementsTable {
  announcement_id: string;
  target_kind: 'device' | 'stop' | 'stops' | 'route' | 'city';
  /** The sign, stop or route; '' for a set of stops and for the city. */
  target_id: string;
  text_en: string;
  text_zh: string | null;
  priority: 'info' | 'warning' | 'emergency';
  starts_at: number | null;
  expires_at: number;
  created_at: number;
  withdrawn: Generated<number>;
  /** What a speaking sign says instead of the text, as JSON. */
  tts: string | null;
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

/** Signed update bundles uploaded to the manager; the file itself stays on the uploading manager's disk. */
export interface UpdateBundlesTable {
  bundle_id: string;
  sha256: string;
  size: number;
  /** The bundle's manifest, as JSON. */
  manifest_json: string;
  path: string;
  uploaded_at: number;
}

export interface RolloutsTable {
  rollout_id: string;
  bundle_id: string;
  version: string;
  /** The rollout request (stages, thresholds, window), as JSON. */
  spec_json: string;
  state: 'running' | 'paused' | 'halted' | 'completed' | 'canceled';
  stage: number;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

export interface RolloutSignsTable {
  rollout_id: string;
  device_id: string;
  stop_id: string;
  stage: number;
  state: string;
  offer_id: string | null;
  offered_at: number | null;
  deadline_at: number | null;
  finished_at: number | null;
  reason: string | null;
  detail: string | null;
  booted_version: string | null;
  attempts: number;
}

/** Managers sharing one broker: each renews its row while it runs; a row past expiry is a dead manager. */
export interface ClusterMembersTable {
  group_name: string;
  member_id: string;
  /** Epoch milliseconds. */
  joined_at: number;
  /** Epoch milliseconds. */
  expires_at: number;
}

/** A named job only one manager may run at a time (a rollout engine, a sweep). */
export interface LeasesTable {
  name: string;
  holder: string;
  /** Epoch milliseconds. */
  expires_at: number;
}

/** Which manager publishes a stop in which publishing round, so no round has two. */
export interface StopRoundsTable {
  stop_id: string;
  round: number;
  member_id: string;
}

/** The stops a set-of-stops or route announcement covers, one row each. */
export interface AnnouncementStopsTable {
  announcement_id: string;
  stop_id: string;
}

/** The announcement each retained announcement topic was last sent ('' when cleared). */
export interface AnnouncementDeliveriesTable {
  topic: string;
  announcement_id: string;
}

export interface StoreSchema {
  signs: SignsTable;
  announcements: AnnouncementsTable;
  announcement_stops: AnnouncementStopsTable;
  feed_versions: FeedVersionsTable;
  feed_chunks: FeedChunksTable;
  update_bundles: UpdateBundlesTable;
  rollouts: RolloutsTable;
  rollout_signs: RolloutSignsTable;
  cluster_members: ClusterMembersTable;
  leases: LeasesTable;
  stop_rounds: StopRoundsTable;
  announcement_deliveries: AnnouncementDeliveriesTable;
  operators: OperatorsTable;
  operator_sessions: OperatorSessionsTable;
  api_tokens: ApiTokensTable;
  sign_credentials: SignCredentialsTable;
  claim_codes: ClaimCodesTable;
  audit_events: AuditEventsTable;
}

export interface OperatorsTable {
  username: string;
  password_hash: string;
  role: 'viewer' | 'operator' | 'maintenance' | 'admin';
  created_at: number;
  password_changed_at: number;
  disabled_at: number | null;
}

/** Sessions are found by the SHA-256 of their cookie; the cookie itself is never stored. */
export interface OperatorSessionsTable {
  session_hash: string;
  username: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
  last_seen_at: number;
  address: string;
}

export interface ApiTokensTable {
  token_id: string;
  token_hash: string;
  name: string;
  username: string;
  role: 'viewer' | 'operator' | 'maintenance' | 'admin';
  /** JSON array of scope names; empty: every route the role allows. */
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** The secret a sign authenticates to the broker with, as its SHA-256. */
export interface SignCredentialsTable {
  device_id: string;
  secret_hash: string;
  issued_at: number;
  revoked_at: number | null;
  claimed_from: string | null;
}

export interface ClaimCodesTable {
  code_hash: string;
  device_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  created_by: string;
}

export interface AuditEventsTable {
  event_id: Generated<number>;
  at: number;
  actor_kind: 'operator' | 'token' | 'sign' | 'system' | 'anonymous';
  actor: string;
  address: string | null;
  action: string;
  target_kind: string | null;
  target_id: string | null;
  /** JSON of what was there before and after, for changes of state. */
  before_json: string | null;
  after_json: string | null;
}
