/** RolloutRepository on the shared store (SQLite or PostgreSQL, through Kysely). */
import type { Kysely, Selectable } from 'kysely';
import { bundleManifest, createRolloutRequest } from '../../shared';
import type { BundleRecord, Rollout, SignProgress } from '../rollout/rolloutModel';
import type { RolloutRepository } from '../rollout/rolloutRepository';
import type {
  RolloutSignsTable,
  RolloutsTable,
  StoreSchema,
  UpdateBundlesTable,
} from './storeSchema';

const ACTIVE = ['running', 'paused', 'halted'] as const;

export class KyselyRolloutRepository implements RolloutRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async saveBundle(b: BundleRecord): Promise<void> {
    await this.db
      .insertInto('update_bundles')
      .values({
        bundle_id: b.bundleId,
        sha256: b.sha256,
        size: b.size,
        manifest_json: JSON.stringify(b.manifest),
        path: b.path,
        uploaded_at: b.uploadedAt,
      })
      .execute();
  }

  async bundle(bundleId: string): Promise<BundleRecord | undefined> {
    const row = await this.db
      .selectFrom('update_bundles')
      .selectAll()
      .where('bundle_id', '=', bundleId)
      .executeTakeFirst();
    return row ? toBundle(row) : undefined;
  }

  async bundleBySha256(sha256: string): Promise<BundleRecord | undefined> {
    const row = await this.db
      .selectFrom('update_bundles')
      .selectAll()
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return row ? toBundle(row) : undefined;
  }

  async bundles(): Promise<BundleRecord[]> {
    const rows = await this.db
      .selectFrom('update_bundles')
      .selectAll()
      .orderBy('uploaded_at', 'desc')
      .orderBy('bundle_id')
      .limit(1000)
      .execute();
    return rows.map(toBundle);
  }

  async createRollout(rollout: Rollout, signs: SignProgress[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('rollouts').values(rolloutRow(rollout)).execute();
      // Inserted in slices: one statement per sign would hold SQLite's connection needlessly long.
      for (let i = 0; i < signs.length; i += 500) {
        await trx
          .insertInto('rollout_signs')
          .values(signs.slice(i, i + 500).map(signRow))
          .execute();
      }
    });
  }

  async rollout(rolloutId: string): Promise<Rollout | undefined> {
    const row = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('rollout_id', '=', rolloutId)
      .executeTakeFirst();
    return row ? toRollout(row) : undefined;
  }

  async rollouts(): Promise<Rollout[]> {
    const rows = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('rollout_id')
      .limit(1000)
      .execute();
    return rows.map(toRollout);
  }

  async activeRollouts(): Promise<Rollout[]> {
    const rows = await this.db
      .selectFrom('rollouts')
      .selectAll()
      .where('state', 'in', ACTIVE)
      .orderBy('created_at')
      .orderBy('rollout_id')
      .execute();
    return rows.map(toRollout);
  }

  async signs(rolloutId: string): Promise<SignProgress[]> {
    const rows = await this.db
      .selectFrom('rollout_signs')
      .selectAll()
      .where('rollout_id', '=', rolloutId)
      .orderBy('stage')
      .orderBy('device_id')
      .execute();
    return rows.map(toSign);
  }

  async activeSignRecords(deviceId: string): Promise<SignProgress[]> {
    const rows = await this.db
      .selectFrom('rollout_signs as s')
      .innerJoin('rollouts as r', 'r.rollout_id', 's.rollout_id')
      .selectAll('s')
      .where('s.device_id', '=', deviceId)
      .where('r.state', 'in', ACTIVE)
      .execute();
    return rows.map(toSign);
  }

  async save(rollout: Rollout, changed: SignProgress[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('rollouts')
        .set({
          state: rollout.state,
          stage: rollout.stage,
          reason: rollout.reason,
          updated_at: rollout.updatedAt,
          spec_json: JSON.stringify(rollout.spec),
        })
        .where('rollout_id', '=', rollout.rolloutId)
        .execute();
      for (const sign of changed) {
        const { rollout_id, device_id, ...rest } = signRow(sign);
        await trx
          .updateTable('rollout_signs')
          .set(rest)
          .where('rollout_id', '=', rollout_id)
          .where('device_id', '=', device_id)
          .execute();
      }
    });
  }
}

function rolloutRow(r: Rollout): RolloutsTable {
  return {
    rollout_id: r.rolloutId,
    bundle_id: r.bundleId,
    version: r.version,
    spec_json: JSON.stringify(r.spec),
    state: r.state,
    stage: r.stage,
    reason: r.reason,
    created_at: r.createdAt,
    updated_at: r.updatedAt,
  };
}

function signRow(s: SignProgress): RolloutSignsTable {
  return {
    rollout_id: s.rolloutId,
    device_id: s.deviceId,
    stop_id: s.stopId,
    stage: s.stage,
    state: s.state,
    offer_id: s.offerId,
    offered_at: s.offeredAt,
    deadline_at: s.deadlineAt,
    finished_at: s.finishedAt,
    reason: s.reason,
    detail: s.detail,
    booted_version: s.bootedVersion,
    attempts: s.attempts,
  };
}

function toBundle(row: Selectable<UpdateBundlesTable>): BundleRecord {
  return {
    bundleId: row.bundle_id,
    sha256: row.sha256,
    size: Number(row.size),
    manifest: bundleManifest.parse(JSON.parse(row.manifest_json)),
    path: row.path,
    uploadedAt: Number(row.uploaded_at),
  };
}

function toRollout(row: Selectable<RolloutsTable>): Rollout {
  return {
    rolloutId: row.rollout_id,
    bundleId: row.bundle_id,
    version: row.version,
    spec: createRolloutRequest.parse(JSON.parse(row.spec_json)),
    state: row.state,
    stage: row.stage,
    reason: row.reason,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toSign(row: Selectable<RolloutSignsTable>): SignProgress {
  return {
    rolloutId: row.rollout_id,
    deviceId: row.device_id,
    stopId: row.stop_id,
    stage: row.stage,
    state: row.state as SignProgress['state'],
    offerId: row.offer_id,
    offeredAt: row.offered_at === null ? null : Number(row.offered_at),
    deadlineAt: row.deadline_at === null ? null : Number(row.deadline_at),
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    reason: row.reason as SignProgress['reason'],
    detail: row.detail,
    bootedVersion: row.booted_version,
    attempts: row.attempts,
  };
}
