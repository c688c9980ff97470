/** RolloutRepository on the manager's SQLite file. */
import { bundleManifest, createRolloutRequest } from '../../shared';
import type { SqliteDatabase } from '../store/database';
import type { BundleRecord, Rollout, RolloutState, SignProgress } from './rolloutModel';
import type { RolloutRepository } from './rolloutRepository';

interface BundleRow {
  bundle_id: string;
  sha256: string;
  size: number;
  manifest: string;
  path: string;
  uploaded_at: number;
}

interface RolloutRow {
  rollout_id: string;
  bundle_id: string;
  version: string;
  spec: string;
  state: RolloutState;
  stage: number;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

interface SignRow {
  rollout_id: string;
  device_id: string;
  stop_id: string;
  stage: number;
  state: SignProgress['state'];
  offer_id: string | null;
  offered_at: number | null;
  deadline_at: number | null;
  finished_at: number | null;
  reason: SignProgress['reason'];
  detail: string | null;
  booted_version: string | null;
  attempts: number;
}

const ACTIVE = "('running', 'paused', 'halted')";

export class SqliteRolloutRepository implements RolloutRepository {
  constructor(private readonly db: SqliteDatabase) {}

  init(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS update_bundles (
        bundle_id TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        manifest TEXT NOT NULL,
        path TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS rollouts (
        rollout_id TEXT PRIMARY KEY,
        bundle_id TEXT NOT NULL REFERENCES update_bundles(bundle_id),
        version TEXT NOT NULL,
        spec TEXT NOT NULL,
        state TEXT NOT NULL,
        stage INTEGER NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS rollout_signs (
        rollout_id TEXT NOT NULL REFERENCES rollouts(rollout_id),
        device_id TEXT NOT NULL,
        stop_id TEXT NOT NULL,
        stage INTEGER NOT NULL,
        state TEXT NOT NULL,
        offer_id TEXT,
        offered_at INTEGER,
        deadline_at INTEGER,
        finished_at INTEGER,
        reason TEXT,
        detail TEXT,
        booted_version TEXT,
        attempts INTEGER NOT NULL,
        PRIMARY KEY (rollout_id, device_id)
      );
      CREATE INDEX IF NOT EXISTS rollout_signs_by_device ON rollout_signs(device_id);
    `);
  }

  async saveBundle(b: BundleRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO update_bundles (bundle_id, sha256, size, manifest, path, uploaded_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(b.bundleId, b.sha256, b.size, JSON.stringify(b.manifest), b.path, b.uploadedAt);
  }

  async bundle(bundleId: string): Promise<BundleRecord | undefined> {
    const row = this.db
      .prepare<[string], BundleRow>('SELECT * FROM update_bundles WHERE bundle_id = ?')
      .get(bundleId);
    return row ? toBundle(row) : undefined;
  }

  async bundles(): Promise<BundleRecord[]> {
    return this.db
      .prepare<[], BundleRow>('SELECT * FROM update_bundles ORDER BY uploaded_at DESC')
      .all()
      .map(toBundle);
  }

  async createRollout(rollout: Rollout, signs: SignProgress[]): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO rollouts (rollout_id, bundle_id, version, spec, state, stage, reason,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          rollout.rolloutId,
          rollout.bundleId,
          rollout.version,
          JSON.stringify(rollout.spec),
          rollout.state,
          rollout.stage,
          rollout.reason,
          rollout.createdAt,
          rollout.updatedAt,
        );
      this.writeSigns(signs);
    })();
  }

  async rollout(rolloutId: string): Promise<Rollout | undefined> {
    const row = this.db
      .prepare<[string], RolloutRow>('SELECT * FROM rollouts WHERE rollout_id = ?')
      .get(rolloutId);
    return row ? toRollout(row) : undefined;
  }

  async rollouts(): Promise<Rollout[]> {
    return this.db
      .prepare<[], RolloutRow>('SELECT * FROM rollouts ORDER BY created_at DESC, rollout_id')
      .all()
      .map(toRollout);
  }

  async activeRollouts(): Promise<Rollout[]> {
    return this.db
      .prepare<[], RolloutRow>(
        `SELECT * FROM rollouts WHERE state IN ${ACTIVE} ORDER BY created_at`,
      )
      .all()
      .map(toRollout);
  }

  async signs(rolloutId: string): Promise<SignProgress[]> {
    return this.db
      .prepare<[string], SignRow>(
        'SELECT * FROM rollout_signs WHERE rollout_id = ? ORDER BY stage, rowid',
      )
      .all(rolloutId)
      .map(toSign);
  }

  async activeSignRecords(deviceId: string): Promise<SignProgress[]> {
    return this.db
      .prepare<[string], SignRow>(
        `SELECT s.* FROM rollout_signs s JOIN rollouts r USING (rollout_id)
         WHERE s.device_id = ? AND r.state IN ${ACTIVE}`,
      )
      .all(deviceId)
      .map(toSign);
  }

  async save(rollout: Rollout, changed: SignProgress[]): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE rollouts SET state = ?, stage = ?, reason = ?, updated_at = ?, spec = ?
           WHERE rollout_id = ?`,
        )
        .run(
          rollout.state,
          rollout.stage,
          rollout.reason,
          rollout.updatedAt,
          JSON.stringify(rollout.spec),
          rollout.rolloutId,
        );
      this.writeSigns(changed);
    })();
  }

  private writeSigns(signs: SignProgress[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO rollout_signs (rollout_id, device_id, stop_id, stage, state, offer_id,
         offered_at, deadline_at, finished_at, reason, detail, booted_version, attempts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (rollout_id, device_id) DO UPDATE SET stage = excluded.stage,
         state = excluded.state, offer_id = excluded.offer_id, offered_at = excluded.offered_at,
         deadline_at = excluded.deadline_at, finished_at = excluded.finished_at,
         reason = excluded.reason, detail = excluded.detail,
         booted_version = excluded.booted_version, attempts = excluded.attempts`,
    );
    for (const s of signs) {
      upsert.run(
        s.rolloutId,
        s.deviceId,
        s.stopId,
        s.stage,
        s.state,
        s.offerId,
        s.offeredAt,
        s.deadlineAt,
        s.finishedAt,
        s.reason,
        s.detail,
        s.bootedVersion,
        s.attempts,
      );
    }
  }
}

function toBundle(row: BundleRow): BundleRecord {
  return {
    bundleId: row.bundle_id,
    sha256: row.sha256,
    size: row.size,
    manifest: bundleManifest.parse(JSON.parse(row.manifest)),
    path: row.path,
    uploadedAt: row.uploaded_at,
  };
}

function toRollout(row: RolloutRow): Rollout {
  return {
    rolloutId: row.rollout_id,
    bundleId: row.bundle_id,
    version: row.version,
    spec: createRolloutRequest.parse(JSON.parse(row.spec)),
    state: row.state,
    stage: row.stage,
    reason: row.reason,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSign(row: SignRow): SignProgress {
  return {
    rolloutId: row.rollout_id,
    deviceId: row.device_id,
    stopId: row.stop_id,
    stage: row.stage,
    state: row.state,
    offerId: row.offer_id,
    offeredAt: row.offered_at,
    deadlineAt: row.deadline_at,
    finishedAt: row.finished_at,
    reason: row.reason,
    detail: row.detail,
    bootedVersion: row.booted_version,
    attempts: row.attempts,
  };
}
