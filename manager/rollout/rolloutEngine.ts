/**
 * Runs rollouts: on a timer and on every update status a sign sends, it asks
 * the planner what to do, saves the result, and publishes offers (retained,
 * on each sign's update topic) or withdraws them. Operator actions (pause,
 * resume, cancel, retry the failed) go through the same queue, one at a time.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Logger } from 'pino';
import { topics, type RolloutSpec, type UpdateStatusData } from '../../shared';
import type { StoreMutex } from '../cluster/storeMutex';
import type { ScheduleSource } from '../gtfs/types';
import type { FleetLink } from '../link/fleetLink';
import type { SignRepository } from '../store/signRepository';
import { TERMINAL, type BundleRecord, type Rollout, type SignProgress } from './rolloutModel';
import {
  applyReport,
  assignStages,
  insideWindow,
  planRollout,
  stageProgress,
  type StageProgress,
} from './rolloutPlanner';
import type { RolloutRepository } from './rolloutRepository';

export interface RolloutEngineOptions {
  repo: RolloutRepository;
  link: FleetLink;
  signs: SignRepository;
  /** Only where a sign is: its stop's zone. */
  schedule: Pick<ScheduleSource, 'stop'>;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  tickMs: number;
  /** The URL signs download a bundle from. */
  bundleUrl: (bundle: BundleRecord) => string;
  /**
   * Managers sharing a fleet: every step (a tick, a sign's report, an operator's
   * action) reads and writes the rollout under this lock, so two managers never
   * both offer a sign or both advance a stage. Alone, the in-process queue suffices.
   */
  mutex?: StoreMutex | undefined;
}

export class RolloutError extends Error {
  constructor(
    message: string,
    readonly status: 404 | 409 | 422,
  ) {
    super(message);
  }
}

export interface RolloutProgress {
  rollout: Rollout;
  stages: StageProgress[];
  signs: SignProgress[];
}

export class RolloutEngine {
  private timer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onStatus = (status: UpdateStatusData): void => {
    void this.exclusive(() => this.report(status)).catch((err: Error) =>
      this.o.logger.error({ err: err.message }, 'applying an update report failed'),
    );
  };

  constructor(private readonly o: RolloutEngineOptions) {}

  start(): void {
    this.o.link.on('updateStatus', this.onStatus);
    this.timer = setInterval(() => {
      void this.tick().catch((err: Error) =>
        this.o.logger.error({ err: err.message }, 'rollout tick failed'),
      );
    }, this.o.tickMs);
  }

  async stop(): Promise<void> {
    this.o.link.off('updateStatus', this.onStatus);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  /** Runs one planning pass over every active rollout. */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      for (const rollout of await this.o.repo.activeRollouts()) await this.plan(rollout);
    });
  }

  create(spec: RolloutSpec): Promise<Rollout> {
    return this.exclusive(async () => {
      const bundle = await this.o.repo.bundle(spec.bundleId);
      if (!bundle) throw new RolloutError(`no bundle ${spec.bundleId}`, 404);
      const registered = await this.o.signs.list();
      const { target } = spec;
      const chosen =
        'all' in target
          ? registered
          : 'stopIds' in target
            ? registered.filter((s) => target.stopIds.includes(s.stopId))
            : registered.filter((s) => target.deviceIds.includes(s.deviceId));
      if (chosen.length === 0) throw new RolloutError('the target names no registered sign', 422);
      const now = this.now();
      const rollout: Rollout = {
        rolloutId: randomUUID(),
        bundleId: bundle.bundleId,
        version: bundle.manifest.version,
        spec,
        state: 'running',
        stage: 0,
        reason: null,
        createdAt: now,
        updatedAt: now,
      };
      await this.o.repo.createRollout(
        rollout,
        assignStages(rollout.rolloutId, chosen, spec.stages),
      );
      this.o.logger.info(
        { rolloutId: rollout.rolloutId, version: rollout.version, signs: chosen.length },
        'rollout created',
      );
      return this.plan(rollout);
    });
  }

  progress(rolloutId: string): Promise<RolloutProgress> {
    return this.exclusive(async () => {
      const rollout = await this.require(rolloutId);
      const signs = await this.o.repo.signs(rolloutId);
      return { rollout, stages: stageProgress(rollout, signs), signs };
    });
  }

  pause(rolloutId: string): Promise<Rollout> {
    return this.change(rolloutId, ['running'], (r) => ({ ...r, state: 'paused' }));
  }

  resume(rolloutId: string): Promise<Rollout> {
    return this.change(rolloutId, ['paused', 'halted'], (r) => ({
      ...r,
      state: 'running',
      reason: null,
    }));
  }

  /** Stops the rollout; offers not yet taken up are withdrawn. */
  cancel(rolloutId: string): Promise<Rollout> {
    return this.exclusive(async () => {
      const rollout = await this.require(rolloutId);
      if (rollout.state === 'canceled' || rollout.state === 'completed') {
        throw new RolloutError(`rollout is already ${rollout.state}`, 409);
      }
      const now = this.now();
      const open = (await this.o.repo.signs(rolloutId)).filter(
        (s) => s.state === 'pending' || s.state === 'offered' || s.state === 'downloading',
      );
      const canceled = open.map((s) => ({
        ...s,
        state: 'canceled' as const,
        reason: 'canceled' as const,
        detail: 'the rollout was canceled',
        finishedAt: now,
      }));
      const next: Rollout = {
        ...rollout,
        state: 'canceled',
        reason: 'canceled by an operator',
        updatedAt: now,
      };
      await this.o.repo.save(next, canceled);
      for (const s of canceled) if (s.offerId) await this.withdraw(s);
      return next;
    });
  }

  /** Puts only the failed signs back in line, each with a fresh offer, and runs the rollout again. */
  retryFailed(rolloutId: string): Promise<Rollout> {
    return this.exclusive(async () => {
      const rollout = await this.require(rolloutId);
      if (rollout.state === 'canceled') throw new RolloutError('rollout is canceled', 409);
      const failed = (await this.o.repo.signs(rolloutId)).filter((s) => s.state === 'failed');
      if (failed.length === 0) throw new RolloutError('no sign has failed', 409);
      const reset = failed.map((s) => ({
        ...s,
        state: 'pending' as const,
        offerId: null,
        offeredAt: null,
        deadlineAt: null,
        finishedAt: null,
        reason: null,
        detail: null,
      }));
      const next: Rollout = { ...rollout, state: 'running', reason: null, updatedAt: this.now() };
      await this.o.repo.save(next, reset);
      return this.plan(next);
    });
  }

  private change(
    rolloutId: string,
    from: Rollout['state'][],
    to: (r: Rollout) => Rollout,
  ): Promise<Rollout> {
    return this.exclusive(async () => {
      const rollout = await this.require(rolloutId);
      if (!from.includes(rollout.state)) {
        throw new RolloutError(`rollout is ${rollout.state}`, 409);
      }
      const next = { ...to(rollout), updatedAt: this.now() };
      await this.o.repo.save(next, []);
      return next.state === 'running' ? this.plan(next) : next;
    });
  }

  private async report(status: UpdateStatusData): Promise<void> {
    const records = await this.o.repo.activeSignRecords(status.deviceId);
    for (const record of records) {
      const rollout = await this.o.repo.rollout(record.rolloutId);
      if (!rollout) continue;
      const updated = applyReport(record, status, rollout.version, this.now());
      if (!updated) continue;
      await this.o.repo.save(rollout, [updated]);
      if (TERMINAL.has(updated.state)) await this.withdraw(updated);
      await this.plan(rollout);
    }
  }

  private async plan(rollout: Rollout): Promise<Rollout> {
    const signs = await this.o.repo.signs(rollout.rolloutId);
    const plan = planRollout(rollout, signs, {
      now: this.now(),
      inWindow: (sign) => this.inWindow(rollout, sign),
      newOfferId: () => randomUUID(),
    });
    if (plan.rollout !== rollout || plan.changed.length > 0) {
      await this.o.repo.save(plan.rollout, plan.changed);
    }
    if (plan.rollout.state !== rollout.state) {
      this.o.logger.info(
        { rolloutId: rollout.rolloutId, state: plan.rollout.state, reason: plan.rollout.reason },
        'rollout state changed',
      );
    }
    if (plan.offer.length > 0) {
      const bundle = await this.o.repo.bundle(rollout.bundleId);
      if (!bundle)
        throw new Error(`bundle ${rollout.bundleId} of rollout ${rollout.rolloutId} is gone`);
      for (const sign of plan.offer) await this.sendOffer(rollout, bundle, sign);
    }
    for (const sign of plan.withdraw) await this.withdraw(sign);
    return plan.rollout;
  }

  private async sendOffer(
    rollout: Rollout,
    bundle: BundleRecord,
    sign: SignProgress,
  ): Promise<void> {
    if (!sign.offerId) return;
    await this.o.link.publish(
      'deviceUpdateOffer',
      topics.deviceUpdateOffer(sign.deviceId),
      {
        deviceId: sign.deviceId,
        offerId: sign.offerId,
        rolloutId: rollout.rolloutId,
        version: bundle.manifest.version,
        url: this.o.bundleUrl(bundle),
        sha256: bundle.sha256,
        size: bundle.size,
        totalSize: bundle.manifest.totalSize,
        issuedAt: this.now(),
      },
      true,
    );
  }

  private async withdraw(sign: SignProgress): Promise<void> {
    await this.o.link
      .clearRetained(topics.deviceUpdateOffer(sign.deviceId))
      .catch((err: Error) =>
        this.o.logger.warn(
          { err: err.message, deviceId: sign.deviceId },
          'withdrawing an offer failed',
        ),
      );
  }

  private inWindow(rollout: Rollout, sign: SignProgress): boolean {
    const window = rollout.spec.maintenanceWindow;
    if (!window) return true;
    const zone = this.o.schedule.stop(sign.stopId)?.timezone ?? 'UTC';
    const local = DateTime.fromMillis(this.o.clock(), { zone });
    return insideWindow(window, local.hour * 60 + local.minute);
  }

  private async require(rolloutId: string): Promise<Rollout> {
    const rollout = await this.o.repo.rollout(rolloutId);
    if (!rollout) throw new RolloutError(`no rollout ${rolloutId}`, 404);
    return rollout;
  }

  private now(): number {
    return Math.floor(this.o.clock() / 1000);
  }

  private exclusive<T>(step: () => Promise<T>): Promise<T> {
    const mutex = this.o.mutex;
    const fn = mutex ? () => mutex.run(step) : step;
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
