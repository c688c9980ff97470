/**
 * The update agent: a persisted state machine, after Mender's client.
 *
 *   idle → downloading → verifying → installing → switching → trial → committed
 *                                                                   ↘ rolled-back
 *   (any step before the switch may end in failed)
 *
 * The state is written (atomically) before its step starts, and every step can
 * be run again after a power cut: a download resumes where the file ends, a
 * verify reads the file again, an install starts the spare slot over, a switch
 * is redone, a trial goes on against its persisted deadline, and a commit or
 * rollback re-points the links. Refusals are final; network failures are
 * retried with capped backoff, then reported as a failure. Nothing retries forever.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  compareVersions,
  type UpdateFailureReason,
  type UpdateOfferData,
  type UpdatePhase,
  type UpdateStatusData,
} from '../../shared';
import { DISK_HEADROOM_BYTES } from '../../shared/bundle/policy';
import { healthProblems, readHealth } from '../health/healthReport';
import { writeFileAtomic } from './atomicFile';
import type { UpdateConfig } from './config';
import { download, DownloadError } from './downloader';
import { sha256OfFile } from './fileHash';
import { installBundle, InstallError } from './installer';
import type { Slots } from './slots';
import type { TrustStore } from './trustStore';
import type { UpdateChannel } from './updateLink';
import { IDLE, type UpdateState, type UpdateStateStore } from './updateState';
import { verifyBundle } from './verifier';

export interface UpdateAgentOptions {
  config: UpdateConfig;
  slots: Slots;
  store: UpdateStateStore;
  trust: TrustStore;
  channel: UpdateChannel;
  /** Restarts the sign so it runs from the current slot. */
  restartSign: () => Promise<void>;
  freeBytes: (dir: string) => number;
  clock: () => number;
  logger: Logger;
  /** Called once a commit is done; the program exits so the new agent takes over. */
  onCommitted?: () => void;
}

export class UpdateAgent {
  private state: UpdateState = IDLE;
  private offer: UpdateOfferData | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stepAbort = new AbortController();
  private lastProgressReport = 0;

  constructor(private readonly o: UpdateAgentOptions) {}

  get phase(): UpdatePhase {
    return this.state.phase;
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.o.config.stateDir, { recursive: true });
    this.state = this.o.store.load();
    this.running = true;
    this.o.channel.on('offer', (offer) => this.onOffer(offer));
    await this.o.channel.start();
    this.report();
    this.o.logger.info({ phase: this.state.phase }, 'update agent started');
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stepAbort.abort();
    this.wake?.();
    await this.loop;
    await this.o.channel.stop();
  }

  private onOffer(offer: UpdateOfferData | null): void {
    this.offer = offer;
    const busy = this.state.phase === 'downloading' || this.state.phase === 'verifying';
    if (busy && this.state.offer && offer?.offerId !== this.state.offer.offerId) {
      this.o.logger.info('offer withdrawn or replaced; stopping the current update');
      this.stepAbort.abort();
    }
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.stepAbort = new AbortController();
      let next: UpdateState;
      try {
        next = await this.step();
      } catch (err) {
        // A bug or an I/O error outside the expected ones: end this update, never loop on it.
        const { phase } = this.state;
        const message = (err as Error).message;
        this.o.logger.error({ err: message, phase }, 'step failed');
        if (phase === 'switching' || phase === 'trial') {
          // The new slot may already be current: go back to the committed one.
          next = this.rollBack(
            phase === 'trial' ? 'health-check-failed' : 'install-failed',
            message,
          );
        } else if (phase === 'committed' || phase === 'rolled-back' || phase === 'failed') {
          // Finishing failed; record the outcome as it stands rather than finish forever.
          next = { ...IDLE, lastOutcome: this.state.lastOutcome };
        } else {
          next = this.fail('install-failed', message);
        }
      }
      if (!this.running) return;
      const finishedCommit = this.state.phase === 'committed' && next.phase === 'idle';
      if (next !== this.state) await this.enter(next);
      // Only once idle is on disk: the agent that starts next must not finish the commit again.
      if (finishedCommit) this.o.onCommitted?.();
    }
  }

  private async enter(next: UpdateState): Promise<void> {
    const previous = this.state;
    this.o.store.save(next);
    this.state = next;
    this.report();
    const offer = next.offer ?? previous.offer;
    if (offer && previous.phase !== next.phase) {
      this.o.logger.info(
        { from: previous.phase, to: next.phase, version: offer.version },
        'update state',
      );
      this.o.channel.publishEvent({
        deviceId: this.o.config.deviceId,
        offerId: offer.offerId,
        rolloutId: offer.rolloutId,
        from: previous.phase,
        to: next.phase,
        version: offer.version,
        ...(next.failure
          ? {
              reason: next.failure.reason as UpdateFailureReason,
              detail: next.failure.detail.slice(0, 500),
            }
          : {}),
        at: Math.floor(this.o.clock() / 1000),
      });
    }
    await this.pause();
  }

  private pause(): Promise<void> {
    const ms = this.o.config.stepPauseMs;
    return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
  }

  private step(): Promise<UpdateState> {
    switch (this.state.phase) {
      case 'idle':
        return this.idle();
      case 'downloading':
        return this.downloading();
      case 'verifying':
        return this.verifying();
      case 'installing':
        return this.installing();
      case 'switching':
        return this.switching();
      case 'trial':
        return this.trial();
      case 'committed':
      case 'rolled-back':
      case 'failed':
        return this.finish();
    }
  }

  // ---- states -------------------------------------------------------------

  private async idle(): Promise<UpdateState> {
    const offer = this.offer;
    if (!offer || offer.offerId === this.state.lastOutcome?.offerId) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
      return this.state;
    }
    const base: UpdateState = { ...IDLE, offer, lastOutcome: this.state.lastOutcome };
    const installed = this.o.slots.committedVersion();
    const order = compareVersions(offer.version, installed);
    // Already running it (a lost report, a re-sent offer): that is a success, not a download.
    if (order === 0)
      return { ...base, phase: 'committed', targetSlot: this.o.slots.committed() ?? 'a' };
    if (order < 0) {
      return this.fail(
        'downgrade',
        `offer ${offer.version} is older than installed ${installed}`,
        base,
      );
    }
    const onDisk = fs.statSync(this.partPath(offer), { throwIfNoEntry: false })?.size ?? 0;
    const needed = offer.size - onDisk + offer.totalSize + DISK_HEADROOM_BYTES;
    const free = this.o.freeBytes(this.o.config.stateDir);
    if (needed > free) {
      return this.fail(
        'too-large',
        `needs ${needed} bytes for bundle and slot; ${free} free`,
        base,
      );
    }
    return { ...base, phase: 'downloading' };
  }

  private async downloading(): Promise<UpdateState> {
    const offer = this.requireOffer();
    const { config } = this.o;
    const budget = Math.floor(offer.size * config.dataBudgetFactor);
    let fetched = this.state.fetchedBytes;
    fs.mkdirSync(path.dirname(this.partPath(offer)), { recursive: true });
    try {
      await download({
        url: offer.url,
        partPath: this.partPath(offer),
        expectedSize: offer.size,
        maxBytesPerSecond: config.maxBytesPerSecond,
        budgetLeft: budget - fetched,
        signal: this.stepAbort.signal,
        ca: config.managerCaPem,
        onFetched: (bytes, onDisk) => {
          fetched += bytes;
          this.progress(fetched, onDisk);
        },
      });
    } catch (err) {
      this.persistFetched(fetched);
      if (!this.running) return this.state;
      if (this.canceled()) return this.fail('canceled', 'the offer was withdrawn or replaced');
      if (!(err instanceof DownloadError)) throw err;
      if (!err.transient) {
        fs.rmSync(this.partPath(offer), { force: true });
        return this.fail(err.reason, err.message);
      }
      const attempt = this.state.attempt + 1;
      if (attempt >= config.maxAttempts) {
        return this.fail('download-failed', `${err.message} (gave up after ${attempt} attempts)`);
      }
      const delay = Math.min(config.retryMaxMs, config.retryMinMs * 2 ** (attempt - 1));
      this.o.logger.warn(
        { err: err.message, attempt, retryInMs: delay },
        'download failed; retrying',
      );
      // The count is saved before waiting, so a restart does not reset the cap.
      this.state = { ...this.state, attempt, fetchedBytes: fetched };
      this.o.store.save(this.state);
      this.report();
      await this.sleep(delay);
      return this.state;
    }
    this.persistFetched(fetched);
    const hash = await sha256OfFile(this.partPath(offer));
    if (hash !== offer.sha256) {
      fs.rmSync(this.partPath(offer), { force: true });
      return this.fail(
        'hash-mismatch',
        `downloaded bundle has SHA-256 ${hash.slice(0, 12)}, the offer says ${offer.sha256.slice(0, 12)}`,
      );
    }
    fs.renameSync(this.partPath(offer), this.bundlePath(offer));
    return { ...this.state, fetchedBytes: fetched, phase: 'verifying' };
  }

  private async verifying(): Promise<UpdateState> {
    const offer = this.requireOffer();
    const verdict = await verifyBundle(this.bundlePath(offer), this.o.trust.load(), {
      installedVersion: this.o.slots.committedVersion(),
      hardware: this.o.config.hardware,
      arch: process.arch,
      freeBytes: this.o.freeBytes(this.o.slots.root),
    });
    // Key statements that verified are kept even when the bundle is refused.
    this.o.trust.save(verdict.trust);
    if (this.canceled()) return this.fail('canceled', 'the offer was withdrawn or replaced');
    if (!verdict.ok) return this.fail(verdict.refusal.reason, verdict.refusal.detail);
    if (verdict.manifest.version !== offer.version) {
      return this.fail(
        'malformed-bundle',
        `bundle holds ${verdict.manifest.version}, the offer says ${offer.version}`,
      );
    }
    return { ...this.state, phase: 'installing', targetSlot: this.o.slots.spare() };
  }

  private async installing(): Promise<UpdateState> {
    const offer = this.requireOffer();
    const slot = this.requireSlot();
    const verdict = await verifyBundle(this.bundlePath(offer), this.o.trust.load(), {
      installedVersion: this.o.slots.committedVersion(),
      hardware: this.o.config.hardware,
      arch: process.arch,
      freeBytes: Number.MAX_SAFE_INTEGER,
    });
    if (!verdict.ok) return this.fail(verdict.refusal.reason, verdict.refusal.detail);
    try {
      await installBundle({
        file: this.bundlePath(offer),
        manifest: verdict.manifest,
        slots: this.o.slots,
        slot,
        nowMs: this.o.clock(),
      });
    } catch (err) {
      this.o.slots.wipe(slot);
      if (err instanceof InstallError) return this.fail(err.reason, err.message);
      return this.fail('install-failed', (err as Error).message);
    }
    return { ...this.state, phase: 'switching', switchedAtMs: this.o.clock() };
  }

  private async switching(): Promise<UpdateState> {
    const slot = this.requireSlot();
    const { config } = this.o;
    // The boot guard counts the new slot's starts from here on.
    writeFileAtomic(path.join(config.stateDir, 'boot-tries-left'), `${config.bootTries}\n`);
    fs.rmSync(path.join(config.stateDir, 'boot-guard-reverted'), { force: true });
    await this.pause();
    this.o.slots.pointCurrentAt(slot);
    await this.pause();
    await this.o.restartSign();
    return {
      ...this.state,
      phase: 'trial',
      trialDeadlineMs: this.o.clock() + config.trialSeconds * 1000,
    };
  }

  private async trial(): Promise<UpdateState> {
    const offer = this.requireOffer();
    const { config } = this.o;
    const deadline = this.state.trialDeadlineMs ?? 0;
    let problems: string[] = [];
    while (this.running) {
      const reverted = path.join(config.stateDir, 'boot-guard-reverted');
      if (fs.existsSync(reverted)) {
        return this.rollBack(
          'crashed-at-start',
          `${offer.version} did not stay up for ${config.bootTries} starts; the boot guard went back`,
        );
      }
      problems = healthProblems(readHealth(config.healthFile), {
        version: offer.version,
        startedAfterMs: this.state.switchedAtMs ?? 0,
      });
      if (problems.length === 0) return { ...this.state, phase: 'committed' };
      if (this.o.clock() >= deadline) break;
      await this.sleep(500);
    }
    if (!this.running) return this.state;
    return this.rollBack(
      'health-check-failed',
      `not healthy within ${config.trialSeconds} s: ${problems.join('; ')}`,
    );
  }

  /** The end of an update, whichever way: make the links right, record the outcome, go idle. */
  private async finish(): Promise<UpdateState> {
    const offer = this.requireOffer();
    const { slots, config } = this.o;
    const result = this.state.phase;
    if (result === 'committed') {
      slots.pointCommittedAt(this.requireSlot());
    } else {
      // Whatever went wrong, the sign must end on the committed slot.
      const committed = slots.committed();
      const moved = committed !== null && slots.current() !== committed;
      if (moved) slots.pointCurrentAt(committed);
      if (moved || result === 'rolled-back') {
        await this.o.restartSign().catch((err: Error) =>
          // The links are right; the next start of the sign runs the committed slot.
          this.o.logger.error({ err: err.message }, 'restarting the sign failed'),
        );
      }
    }
    fs.rmSync(path.join(config.stateDir, 'boot-tries-left'), { force: true });
    fs.rmSync(path.join(config.stateDir, 'boot-guard-reverted'), { force: true });
    this.removeDownloads();
    const outcome = {
      offerId: offer.offerId,
      rolloutId: offer.rolloutId,
      version: offer.version,
      result: result as 'committed' | 'rolled-back' | 'failed',
      ...(this.state.failure
        ? {
            reason: this.state.failure.reason as UpdateFailureReason,
            detail: this.state.failure.detail.slice(0, 500),
          }
        : {}),
      at: Math.floor(this.o.clock() / 1000),
    };
    return { ...IDLE, lastOutcome: outcome };
  }

  // ---- helpers ------------------------------------------------------------

  private fail(
    reason: UpdateFailureReason,
    detail: string,
    base: UpdateState = this.state,
  ): UpdateState {
    this.o.logger.warn({ reason, detail }, 'update failed');
    return { ...base, phase: 'failed', failure: { reason, detail } };
  }

  private rollBack(reason: UpdateFailureReason, detail: string): UpdateState {
    this.o.logger.warn({ reason, detail }, 'rolling back');
    return { ...this.state, phase: 'rolled-back', failure: { reason, detail } };
  }

  private canceled(): boolean {
    return this.offer?.offerId !== this.state.offer?.offerId;
  }

  private requireOffer(): UpdateOfferData {
    if (!this.state.offer) throw new Error(`state ${this.state.phase} without an offer`);
    return this.state.offer;
  }

  private requireSlot(): 'a' | 'b' {
    if (!this.state.targetSlot) throw new Error(`state ${this.state.phase} without a slot`);
    return this.state.targetSlot;
  }

  private partPath(offer: UpdateOfferData): string {
    return path.join(this.o.config.stateDir, 'downloads', `${offer.sha256}.part`);
  }

  private bundlePath(offer: UpdateOfferData): string {
    return path.join(this.o.config.stateDir, 'downloads', `${offer.sha256}.bundle`);
  }

  private removeDownloads(): void {
    fs.rmSync(path.join(this.o.config.stateDir, 'downloads'), { recursive: true, force: true });
    fs.mkdirSync(path.join(this.o.config.stateDir, 'downloads'), { recursive: true });
  }

  private persistFetched(fetched: number): void {
    if (fetched === this.state.fetchedBytes) return;
    this.state = { ...this.state, fetchedBytes: fetched };
    this.o.store.save(this.state);
  }

  private progress(fetched: number, onDisk: number): void {
    const now = this.o.clock();
    // Saved about once a second so a restart knows the budget spent; reported every 5 s.
    this.persistFetched(fetched);
    if (now - this.lastProgressReport >= 5_000) {
      this.lastProgressReport = now;
      this.report(onDisk);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stepAbort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private report(downloadedBytes?: number): void {
    const { state } = this;
    const health = readHealth(this.o.config.healthFile);
    const status: UpdateStatusData = {
      deviceId: this.o.config.deviceId,
      phase: state.phase,
      installedVersion: this.o.slots.committedVersion(),
      ...(health ? { bootedVersion: health.version } : {}),
      ...(state.offer
        ? {
            offerId: state.offer.offerId,
            rolloutId: state.offer.rolloutId,
            targetVersion: state.offer.version,
            totalBytes: state.offer.size,
          }
        : {}),
      ...(state.attempt > 0 ? { attempt: state.attempt } : {}),
      ...(downloadedBytes !== undefined ? { downloadedBytes } : {}),
      ...(state.lastOutcome ? { lastOutcome: state.lastOutcome } : {}),
      updatedAt: Math.floor(this.o.clock() / 1000),
    };
    this.o.channel.publishStatus(status);
  }
}
