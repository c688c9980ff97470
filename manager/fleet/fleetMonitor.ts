/** Records what signs report about themselves: status (last seen, mode) and last frame. */
import type { Logger } from 'pino';
import type { DeviceFrameData, DeviceStatusData } from '../../shared';
import type { FleetLink } from '../link/fleetLink';
import type { SignRepository } from '../store/signRepository';
import { framePngProblem } from './framePng';

export class FleetMonitor {
  /** Writes go one after another, so a sign's newer status never lands before an older one. */
  private writes: Promise<void> = Promise.resolve();

  private readonly onStatus = (status: DeviceStatusData, sentAt: number): void => {
    const now = Math.floor(this.options.clock() / 1000);
    // A retained status can be hours old: it says when the sign last spoke, not now.
    const seenAt = Math.min(now, Math.floor(sentAt / 1000));
    this.write(async () => {
      if (!(await this.options.signs.recordStatus(status, seenAt))) {
        this.options.logger.info({ deviceId: status.deviceId }, 'status from an unregistered sign');
      }
    });
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
      link: FleetLink;
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

  private write(task: () => Promise<void>): void {
    this.writes = this.writes.then(task).catch((err: unknown) => {
      this.options.logger.warn(
        { err: (err as Error).message },
        'could not record what a sign sent',
      );
    });
  }
}
