/** Records what signs report about themselves: status (last seen, mode) and last frame. */
import type { Logger } from 'pino';
import type { DeviceFrameData, DeviceStatusData } from '../../shared';
import type { FleetLink } from '../link/fleetLink';
import type { SignRegistry } from '../store/signRegistry';
import { framePngProblem } from './framePng';

export class FleetMonitor {
  private readonly onStatus = (status: DeviceStatusData, sentAt: number): void => {
    const now = Math.floor(this.options.clock() / 1000);
    // A retained status can be hours old: it says when the sign last spoke, not now.
    const seenAt = Math.min(now, Math.floor(sentAt / 1000));
    if (!this.options.signs.recordStatus(status, seenAt)) {
      this.options.logger.info({ deviceId: status.deviceId }, 'status from an unregistered sign');
    }
  };

  private readonly onFrame = (deviceId: string, frame: DeviceFrameData): void => {
    const png = Buffer.from(frame.png, 'base64');
    const problem = framePngProblem(png, frame.width, frame.height);
    if (problem) {
      this.options.link.rejections.record('deviceFrame', 'invalid');
      this.options.logger.warn({ deviceId, problem }, 'frame refused');
      return;
    }
    this.options.signs.recordFrame(deviceId, png, frame.renderedAt);
  };

  constructor(
    private readonly options: {
      link: FleetLink;
      signs: SignRegistry;
      clock: () => number;
      logger: Logger;
    },
  ) {}

  start(): void {
    this.options.link.on('status', this.onStatus);
    this.options.link.on('frame', this.onFrame);
  }

  stop(): void {
    this.options.link.off('status', this.onStatus);
    this.options.link.off('frame', this.onFrame);
  }
}
