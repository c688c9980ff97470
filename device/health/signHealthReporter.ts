/**
 * Writes the running sign's health file each time what it says changes, and
 * drives systemd's watchdog from the render loop. Lives beside the Sign, fed
 * from its state, so the sign itself knows nothing of updates or systemd.
 */
import type { Logger } from 'pino';
import type { Sign } from '../sign';
import { writeHealth, type SignHealth } from './healthReport';
import { RenderLoopWatchdog, SystemdNotifier, watchdogIntervalMs } from './watchdog';

export class SignHealthReporter {
  private timer: NodeJS.Timeout | null = null;
  private lastWritten = '';
  private watchdog: RenderLoopWatchdog | null = null;

  constructor(
    private readonly options: {
      sign: Sign;
      healthFile: string;
      version: string;
      startedAtMs: number;
      clock: () => number;
      /** The sign's own clock, which stamps renderedAtMs (a replay clock in demos). */
      signClock: () => number;
      logger: Logger;
      env: NodeJS.ProcessEnv;
    },
  ) {}

  start(): void {
    const { env, logger, signClock, sign } = this.options;
    this.timer = setInterval(() => this.report(), 1000);
    this.report();
    const intervalMs = watchdogIntervalMs(env);
    const notifier = new SystemdNotifier(env, (err) =>
      logger.warn({ err: err.message }, 'systemd-notify failed'),
    );
    if (notifier.enabled) {
      this.watchdog = new RenderLoopWatchdog({
        notifier,
        clock: signClock,
        lastRenderMs: () => sign.state().renderedAtMs,
        intervalMs: intervalMs ?? 30_000,
        // The loop renders every second; three missed passes mean it is stuck.
        staleAfterMs: 3_000,
      });
      this.watchdog.start();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watchdog?.stop();
    this.watchdog = null;
  }

  private report(): void {
    const state = this.options.sign.state();
    const health: Omit<SignHealth, 'writtenAtMs'> = {
      pid: process.pid,
      version: this.options.version,
      startedAtMs: this.options.startedAtMs,
      brokerConnected: state.connected,
      // The reporter starts after sign.start(), which opened the cache or failed.
      cacheOpen: true,
      frameAcked: state.firstFrameAfterMs !== null,
    };
    const key = JSON.stringify(health);
    if (key === this.lastWritten) return;
    try {
      writeHealth(this.options.healthFile, { ...health, writtenAtMs: this.options.clock() });
      this.lastWritten = key;
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, 'writing the health file failed');
    }
  }
}
