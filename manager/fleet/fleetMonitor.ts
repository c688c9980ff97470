/**
 * Records what signs report about themselves: status (last seen, mode) and last frame.
 * Statuses arriving while a write is under way wait and go in the next one, one
 * transaction for all of them: a fleet reconnecting sends ten thousand at once,
 * and one commit each kept the last sign "offline" in the manager long after it
 * was back (on PostgreSQL, minutes).
 */
import type { Logger } from 'pino';
import type { DeviceFrameData, DeviceStatusData } from '../../shared';
import type { FleetLink } from '../link/fleetLink';
import type { SignRepository, StatusReport } from '../store/signRepository';
import { framePngProblem } from './framePng';

/** Statuses per transaction: long enough to pay off, short enough not to hold the store. */
export const STATUS_BATCH = 500;

export class FleetMonitor {
  /** Writes go one after another, so a sign's newer status never lands before an older one. */
  private writes: Promise<void> = Promise.resolve();
  /** Statuses not yet written, newest per sign: an older one still waiting is superseded. */
  private readonly pending = new Map<string, StatusReport>();
  private flushQueued = false;

  private readonly onStatus = (status: DeviceStatusData, sentAt: number): void => {
    const now = Math.floor(this.options.clock() / 1000);
    // A retained status can be hours old: it says when the sign last spoke, not now.
    const seenAt = Math.min(now, Math.floor(sentAt / 1000));
    this.pending.delete(status.deviceId);
    this.pending.set(status.deviceId, { status, seenAt });
    if (this.flushQueued) return;
    this.flushQueued = true;
    this.write(() => this.flushStatuses());
  };

  private readonly onFrame = (deviceId: string, frame: DeviceFrameData): void => {
    const png = Buffer.from(frame.png, 'base64');
    const problem = framePngProblem(png, frame.width, frame.height);
    if (problem) {
      this.options.link.rejections.record('deviceFrame', 'invalid');
      this.options.logger.warn({ deviceId, problem }, 'frame refused');
      return;
    }
    this.write(async () => {
      await this.options.signs.recordFrame(deviceId, png, frame.renderedAt);
    });
  };

  constructor(
    private readonly options: {
      // What it listens to, and where it counts a refused frame.
      link: Pick<FleetLink, 'on' | 'off' | 'rejections'>;
      signs: SignRepository;
      clock: () => number;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.options.link.on('status', this.onStatus);
    this.options.link.on('frame', this.onFrame);
  }

  /** Stops listening and waits for the writes already under way. */
  async stop(): Promise<void> {
    this.options.link.off('status', this.onStatus);
    this.options.link.off('frame', this.onFrame);
    await this.writes;
  }

  /** Everything pending, a batch per transaction, until nothing waits. */
  private async flushStatuses(): Promise<void> {
    this.flushQueued = false;
    while (this.pending.size > 0) {
      const batch: StatusReport[] = [];
      for (const [deviceId, report] of this.pending) {
        batch.push(report);
        this.pending.delete(deviceId);
        if (batch.length >= STATUS_BATCH) break;
      }
      for (const deviceId of await this.options.signs.recordStatuses(batch)) {
        this.options.logger.info({ deviceId }, 'status from an unregistered sign');
      }
    }
  }

  private write(task: () => Promise<void>): void {
    this.writes = this.writes.then(task).catch((err: unknown) => {
      this.options.logger.warn(
        { err: (err as Error).message },
        'could not record what a sign sent',
      );
    });
  }
}
