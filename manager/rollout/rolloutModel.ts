/** What a rollout is and what it knows of each sign; plain data, stored by a RolloutRepository. */
import type { BundleManifest, RolloutSpec, UpdateFailureReason } from '../../shared';

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed' | 'canceled';

export interface Rollout {
  rolloutId: string;
  bundleId: string;
  version: string;
  spec: RolloutSpec;
  state: RolloutState;
  /** Index into spec.stages of the stage being rolled out. */
  stage: number;
  /** Why the rollout halted or was canceled. */
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

export type SignRolloutState =
  | 'pending'
  | 'offered'
  | 'downloading'
  | 'installing'
  | 'trial'
  | 'succeeded'
  | 'failed'
  | 'canceled';

export const TERMINAL: ReadonlySet<SignRolloutState> = new Set(['succeeded', 'failed', 'canceled']);
/** States that hold a download slot (maxConcurrentDownloads). */
export const DOWNLOADING: ReadonlySet<SignRolloutState> = new Set(['offered', 'downloading']);

export interface SignProgress {
  rolloutId: string;
  deviceId: string;
  stopId: string;
  /** The stage this sign belongs to. */
  stage: number;
  state: SignRolloutState;
  offerId: string | null;
  offeredAt: number | null;
  deadlineAt: number | null;
  finishedAt: number | null;
  reason: UpdateFailureReason | 'deadline' | 'canceled' | null;
  detail: string | null;
  /** The version the sign reported booting after its trial. */
  bootedVersion: string | null;
  attempts: number;
}

export interface BundleRecord {
  bundleId: string;
  sha256: string;
  size: number;
  manifest: BundleManifest;
  /** Where the file is kept on the manager's disk. */
  path: string;
  uploadedAt: number;
}
