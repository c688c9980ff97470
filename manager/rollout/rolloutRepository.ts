/**
 * Where bundles and rollouts are kept. Callers only see this async interface,
 * so the engine behind it (SQLite or PostgreSQL, see docs/storage.md) is a constructor
 * argument, not a rewrite.
 */
import type { BundleRecord, Rollout, SignProgress } from './rolloutModel';

export interface RolloutRepository {
  saveBundle(bundle: BundleRecord): Promise<void>;
  bundle(bundleId: string): Promise<BundleRecord | undefined>;
  bundleBySha256(sha256: string): Promise<BundleRecord | undefined>;
  bundles(): Promise<BundleRecord[]>;

  /** Stores a new rollout with every sign it targets, in one transaction. */
  createRollout(rollout: Rollout, signs: SignProgress[]): Promise<void>;
  rollout(rolloutId: string): Promise<Rollout | undefined>;
  rollouts(): Promise<Rollout[]>;
  /** Rollouts that may still change: running, paused or halted. */
  activeRollouts(): Promise<Rollout[]>;
  signs(rolloutId: string): Promise<SignProgress[]>;
  /** The sign's record in each active rollout that targets it. */
  activeSignRecords(deviceId: string): Promise<SignProgress[]>;
  /** Saves the rollout and the changed sign records in one transaction. */
  save(rollout: Rollout, changed: SignProgress[]): Promise<void>;
}
