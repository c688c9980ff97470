/**
 * systemd's watchdog (WatchdogSec) for the sign: READY=1 once started, then
 * WATCHDOG=1 only while the render loop keeps rendering. A hung event loop
 * sends nothing; a loop that runs but no longer renders sends nothing either,
 * so systemd restarts the sign instead of leaving the glass frozen.
 *
 * Messages go through Debian's `systemd-notify`, with NotifyAccess=all in the
 * unit since the sender is a child process. No native module to build per runtime.
 */
import { execFile } from 'node:child_process';

export interface Notifier {
  notify(state: string): void;
}

export class SystemdNotifier implements Notifier {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly onError: (err: Error) => void,
    /**
     * systemd-notify waits until systemd has read the message (a barrier), so
     * systemd can still tell which unit the short-lived sender belonged to.
     * Only a stand-in receiver that cannot answer barriers turns this off.
     */
    private readonly waitForBarrier = true,
  ) {}

  get enabled(): boolean {
    return Boolean(this.env.NOTIFY_SOCKET);
  }

  notify(state: string): void {
    if (!this.enabled) return;
    const args = [`--pid=${process.pid}`, ...(this.waitForBarrier ? [] : ['--no-block']), state];
    execFile('systemd-notify', args, { env: this.env, timeout: 10_000 }, (err) => {
      if (err) this.onError(err);
    });
  }
}

/** WATCHDOG_USEC as systemd sets it, or null when the unit has no watchdog. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return null;
  const pid = env.WATCHDOG_PID === undefined ? process.pid : Number(env.WATCHDOG_PID);
  if (pid !== process.pid) return null;
  return Math.floor(usec / 1000);
}

export class RenderLoopWatchdog {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: {
      notifier: Notifier;
      /** Epoch ms of the render loop's last completed pass, null before the first. */
      lastRenderMs: () => number | null;
      clock: () => number;
      /** systemd's WatchdogSec in ms; pings go at half of it. */
      intervalMs: number;
      /** How old the last render may be and still count as alive. */
      staleAfterMs: number;
    },
  ) {}

  start(): void {
    this.options.notifier.notify('READY=1');
    this.timer = setInterval(() => this.check(), Math.max(50, this.options.intervalMs / 2));
  }

  /** Pings when the loop rendered recently; returns whether it did. */
  check(): boolean {
    const last = this.options.lastRenderMs();
    if (last === null || this.options.clock() - last > this.options.staleAfterMs) return false;
    this.options.notifier.notify('WATCHDOG=1');
    return true;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.options.notifier.notify('STOPPING=1');
  }
}
