/**
 * An in-memory Panel: records every frame shown and every brightness set.
 * The Panel interface is the edge of the glass, so recording there is honest.
 */
import type { Panel, PanelStats } from '../../device/panel/panel';
import type { IndexedFrame } from '../../device/render/frame';

export class RecordingPanel implements Panel {
  readonly frames: IndexedFrame[] = [];
  readonly brightness: number[] = [];
  running = false;
  /** Makes the next n show() calls fail, like a panel that stopped answering. */
  failNextShows = 0;
  private failures = 0;
  private lastError: string | undefined;

  async start(): Promise<void> {
    this.running = true;
  }

  async stop(): Promise<void> {
    this.running = false;
  }

  async show(frame: IndexedFrame): Promise<void> {
    if (!this.running) throw new Error('panel not started');
    if (this.failNextShows > 0) {
      this.failNextShows -= 1;
      this.failures += 1;
      this.lastError = 'no acknowledgement';
      throw new Error(this.lastError);
    }
    this.frames.push({ width: frame.width, height: frame.height, pixels: frame.pixels.slice() });
  }

  async setBrightness(percent: number): Promise<void> {
    this.brightness.push(percent);
  }

  stats(): PanelStats {
    const stats: PanelStats = {
      ok: this.failNextShows === 0,
      framesSent: this.frames.length,
      retries: 0,
      failures: this.failures,
    };
    if (this.lastError !== undefined) stats.lastError = this.lastError;
    return stats;
  }
}
