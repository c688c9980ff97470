/**
 * The rollout's decisions, as pure functions of its records and the time:
 * which signs are offered the bundle now, which are failed for missing their
 * deadline, when a stage is done, and when the rollout halts by itself.
 * Like hawkBit's success and error conditions per group and AWS IoT Jobs'
 * abort criteria and in-progress timeouts; what counts as success is the
 * version the sign reports booting after its trial, not a finished download.
 */
import { createHash } from 'node:crypto';
import type { UpdateStatusData } from '../../shared';
import {
  DOWNLOADING,
  TERMINAL,
  type Rollout,
  type SignProgress,
  type SignRolloutState,
} from './rolloutModel';

/** Orders signs the same way every time, but not by name: the canary is a fair sample. */
export function assignStages(
  rolloutId: string,
  signs: { deviceId: string; stopId: string }[],
  stages: number[],
): SignProgress[] {
  const ordered = [...signs].sort((a, b) =>
    hashOf(rolloutId, a.deviceId).localeCompare(hashOf(rolloutId, b.deviceId)),
  );
  const n = ordered.length;
  const bounds = stages.map((pct) => Math.min(n, Math.max(1, Math.ceil((n * pct) / 100))));
  return ordered.map((sign, i) => ({
    rolloutId,
    deviceId: sign.deviceId,
    stopId: sign.stopId,
    stage: bounds.findIndex((b) => i < b),
    state: 'pending',
    offerId: null,
    offeredAt: null,
    deadlineAt: null,
    finishedAt: null,
    reason: null,
    detail: null,
    bootedVersion: null,
    attempts: 0,
  }));
}

function hashOf(rolloutId: string, deviceId: string): string {
  return createHash('sha256').update(`${rolloutId}\0${deviceId}`).digest('hex');
}

export interface PlanContext {
  /** Epoch seconds. */
  now: number;
  /** Whether the sign's stop is inside the rollout's maintenance window now. */
  inWindow: (sign: SignProgress) => boolean;
  newOfferId: () => string;
}

export interface Plan {
  rollout: Rollout;
  /** Every sign record that changed, to be saved. */
  changed: SignProgress[];
  /** Signs to send an offer to now. */
  offer: SignProgress[];
  /** Signs whose retained offer should be cleared. */
  withdraw: SignProgress[];
}

export interface StageProgress {
  stage: number;
  percent: number;
  signs: number;
  counts: Record<SignRolloutState, number>;
}

export function stageProgress(rollout: Rollout, signs: SignProgress[]): StageProgress[] {
  return rollout.spec.stages.map((percent, stage) => {
    const counts: Record<SignRolloutState, number> = {
      pending: 0,
      offered: 0,
      downloading: 0,
      installing: 0,
      trial: 0,
      succeeded: 0,
      failed: 0,
      canceled: 0,
    };
    const inStage = signs.filter((s) => s.stage === stage);
    for (const s of inStage) counts[s.state] += 1;
    return { stage, percent, signs: inStage.length, counts };
  });
}

export function planRollout(rollout: Rollout, signs: SignProgress[], ctx: PlanContext): Plan {
  const byId = new Map(signs.map((s) => [s.deviceId, s]));
  const changed = new Map<string, SignProgress>();
  const withdraw: SignProgress[] = [];
  const set = (sign: SignProgress, patch: Partial<SignProgress>): SignProgress => {
    const next = { ...sign, ...patch };
    byId.set(sign.deviceId, next);
    changed.set(sign.deviceId, next);
    return next;
  };
  let next: Rollout = rollout;
  const move = (patch: Partial<Rollout>) => {
    next = { ...next, ...patch, updatedAt: ctx.now };
  };

  if (rollout.state === 'completed' || rollout.state === 'canceled') {
    return { rollout, changed: [], offer: [], withdraw: [] };
  }

  // A sign that stays silent past its deadline has failed: no rollout waits forever (hawkbit#693).
  for (const sign of byId.values()) {
    if (TERMINAL.has(sign.state) || sign.state === 'pending') continue;
    if (sign.deadlineAt !== null && ctx.now >= sign.deadlineAt) {
      const failed = set(sign, {
        state: 'failed',
        reason: 'deadline',
        detail: `no outcome within ${rollout.spec.deadlineSeconds} s of the offer`,
        finishedAt: ctx.now,
      });
      withdraw.push(failed);
    }
  }

  const all = [...byId.values()];
  if (next.state === 'running') {
    const reached = all.filter((s) => s.stage <= next.stage);
    const failed = reached.filter((s) => s.state === 'failed').length;
    const { count, percent } = rollout.spec.failureLimit;
    const failedPercent = reached.length === 0 ? 0 : (failed * 100) / reached.length;
    if (
      (count !== undefined && failed >= count) ||
      (percent !== undefined && failedPercent >= percent)
    ) {
      move({
        state: 'halted',
        reason: `${failed} of ${reached.length} signs failed in stages 1-${next.stage + 1} (limit ${count !== undefined ? `${count} signs` : ''}${count !== undefined && percent !== undefined ? ' or ' : ''}${percent !== undefined ? `${percent}%` : ''})`,
      });
    }
  }

  // Advance through finished stages while the success threshold holds.
  while (next.state === 'running') {
    const inStage = all.filter((s) => s.stage === next.stage);
    const reached = [...byId.values()].filter((s) => s.stage <= next.stage);
    if (!reached.every((s) => TERMINAL.has(s.state))) break;
    const succeeded = inStage.filter((s) => s.state === 'succeeded').length;
    const share = inStage.length === 0 ? 100 : (succeeded * 100) / inStage.length;
    if (share < rollout.spec.successPercent) {
      move({
        state: 'halted',
        reason: `stage ${next.stage + 1}: ${succeeded} of ${inStage.length} signs succeeded (${share.toFixed(0)}%), ${rollout.spec.successPercent}% needed`,
      });
      break;
    }
    if (next.stage + 1 >= rollout.spec.stages.length) {
      move({ state: 'completed', reason: null });
      break;
    }
    move({ stage: next.stage + 1 });
  }

  const offer: SignProgress[] = [];
  if (next.state === 'running') {
    const busy = [...byId.values()].filter((s) => DOWNLOADING.has(s.state)).length;
    let capacity = rollout.spec.maxConcurrentDownloads - busy;
    for (const sign of [...byId.values()]) {
      if (capacity <= 0) break;
      if (sign.state !== 'pending' || sign.stage > next.stage || !ctx.inWindow(sign)) continue;
      offer.push(
        set(sign, {
          state: 'offered',
          offerId: ctx.newOfferId(),
          offeredAt: ctx.now,
          deadlineAt: ctx.now + rollout.spec.deadlineSeconds,
          finishedAt: null,
          reason: null,
          detail: null,
          attempts: sign.attempts + 1,
        }),
      );
      capacity -= 1;
    }
  }

  return { rollout: next, changed: [...changed.values()], offer, withdraw };
}

/**
 * What a sign's update status means for its place in a rollout; null when it
 * says nothing new (another offer, or already decided).
 */
export function applyReport(
  sign: SignProgress,
  status: UpdateStatusData,
  targetVersion: string,
  now: number,
): SignProgress | null {
  if (TERMINAL.has(sign.state) || sign.offerId === null) return null;
  const outcome = status.lastOutcome;
  if (outcome?.offerId === sign.offerId) {
    const booted = status.bootedVersion ?? null;
    if (outcome.result === 'committed') {
      const installed = status.installedVersion === targetVersion;
      const runs = booted === null || booted === targetVersion;
      if (installed && runs) {
        return {
          ...sign,
          state: 'succeeded',
          bootedVersion: booted ?? targetVersion,
          finishedAt: now,
        };
      }
      return {
        ...sign,
        state: 'failed',
        reason: 'health-check-failed',
        detail: `reported committed, but boots ${booted ?? status.installedVersion}`,
        bootedVersion: booted,
        finishedAt: now,
      };
    }
    return {
      ...sign,
      state: 'failed',
      reason: outcome.reason ?? 'install-failed',
      detail: `${outcome.result}: ${outcome.detail ?? ''}`.slice(0, 500),
      bootedVersion: booted,
      finishedAt: now,
    };
  }
  if (status.offerId !== sign.offerId) return null;
  const state: SignRolloutState | null =
    status.phase === 'downloading' || status.phase === 'verifying'
      ? 'downloading'
      : status.phase === 'installing' || status.phase === 'switching'
        ? 'installing'
        : status.phase === 'trial'
          ? 'trial'
          : null;
  if (state === null || state === sign.state) return null;
  return { ...sign, state };
}

/** Whether HH:MM now, in `timezone`, falls inside [start, end); windows may cross midnight. */
export function insideWindow(
  window: { start: string; end: string } | undefined,
  localMinutes: number,
): boolean {
  if (!window) return true;
  const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  return start <= end
    ? localMinutes >= start && localMinutes < end
    : localMinutes >= start || localMinutes < end;
}
