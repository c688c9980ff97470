/**
 * The sign's Panel on e-paper. Paper holds its picture without power, so the
 * work is deciding when to refresh: never for a frame the paper already shows,
 * never sooner than the panel's rated interval (the newest frame waits and
 * wins), partial refreshes of the changed rectangle while the policy allows,
 * and a full refresh after N partials or once a day against ghosting. The
 * controller's temperature is read before each refresh; outside the rated
 * range the paper keeps its picture and the panel reports why.
 */
import type { Logger } from 'pino';
import type { Panel, PanelStats } from '../panel/panel';
import { changedRect, framesEqual, type IndexedFrame } from '../render/frame';
import type { EinkController } from './einkController';
import type { EinkRefreshPolicy } from './einkRules';

/** Above this share of the paper a partial refresh is no faster than a full one. */
const PARTIAL_MAX_SHARE = 0.6;
/** Retry after a refused refresh (temperature, controller error). */
const RETRY_MS = 60_000;

/** Timers behind a seam, so tests and benches can run a day of paper in a second. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface EinkPanelOptions {
  controller: EinkController;
  policy: EinkRefreshPolicy;
  width: number;
  height: number;
  /** Epoch milliseconds. */
  clock: () => number;
  timers?: Timers;
  logger?: Logger;
}

export interface EinkPanelStats extends PanelStats {
  fullRefreshes: number;
  partialRefreshes: number;
  /** show() calls for a frame the paper already shows: nothing sent. */
  framesSkipped: number;
  /** Frames replaced by a newer one while waiting for the rated interval. */
  framesCoalesced: number;
  temperatureC: number | null;
}

export class EinkPanel implements Panel {
  private running = false;
  /** What the paper shows; null when unknown (after start), which forces a full refresh. */
  private paper: IndexedFrame | null = null;
  private pending: IndexedFrame | null = null;
  private timer: unknown;
  private retryAtMs = 0;
  private readonly timers: Timers;
  private refreshing: Promise<void> | undefined;
  private lastRefreshMs: number | null = null;
  private lastFullMs: number | null = null;
  private partialsSinceFull = 0;
  private readonly counters = {
    ok: true,
    framesSent: 0,
    retries: 0,
    failures: 0,
    lastError: undefined as string | undefined,
    fullRefreshes: 0,
    partialRefreshes: 0,
    framesSkipped: 0,
    framesCoalesced: 0,
    temperatureC: null as number | null,
  };

  constructor(private readonly options: EinkPanelOptions) {
    this.timers = options.timers ?? realTimers;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.options.controller.start();
    this.running = true;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.refreshing;
    await this.options.controller.stop();
  }

  /** Accepts the frame; it reaches the paper as soon as the panel's rules allow. */
  async show(frame: IndexedFrame): Promise<void> {
    if (!this.running) throw new Error('panel not started');
    if (frame.width !== this.options.width || frame.height !== this.options.height) {
      throw new RangeError(
        `frame is ${frame.width}x${frame.height}, panel is ${this.options.width}x${this.options.height}`,
      );
    }
    const target = this.pending ?? this.paper;
    if (target && framesEqual(target, frame)) {
      this.counters.framesSkipped++;
      return;
    }
    if (this.pending) this.counters.framesCoalesced++;
    this.pending = { width: frame.width, height: frame.height, pixels: frame.pixels.slice() };
    if (this.paper && framesEqual(this.paper, frame)) this.pending = null; // back to what is shown
    this.schedule();
  }

  /** E-paper has no backlight of its own; the pole's front light is a GPIO line. */
  async setBrightness(): Promise<void> {}

  stats(): EinkPanelStats {
    const { lastError, ...rest } = this.counters;
    return { ...rest, ...(lastError === undefined ? {} : { lastError }) };
  }

  /** Resolves once no refresh is running (tests, benches). */
  async settled(): Promise<void> {
    while (this.refreshing) await this.refreshing;
  }

  /** True while a frame waits for the panel's rules to allow a refresh. */
  get waiting(): boolean {
    return this.pending !== null;
  }

  private schedule(): void {
    if (!this.running || this.refreshing || this.timer || !this.pending) return;
    const now = this.options.clock();
    const rated =
      this.lastRefreshMs === null
        ? now
        : this.lastRefreshMs + this.options.policy.minIntervalSeconds * 1000;
    const wait = Math.max(0, rated - now, this.retryAtMs - now);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.refreshing = this.refresh().finally(() => {
        this.refreshing = undefined;
        this.schedule();
      });
    }, wait);
  }

  private async refresh(): Promise<void> {
    const frame = this.pending;
    if (!frame || !this.running) return;
    const { controller, policy, logger } = this.options;
    try {
      const celsius = await controller.readTemperature();
      this.counters.temperatureC = celsius;
      const { min, max } = policy.temperatureC;
      if (celsius < min || celsius > max) {
        throw new Error(`paper at ${celsius} °C, rated ${min}..${max} °C: refresh held back`);
      }
      const now = this.options.clock();
      const rect = this.paper ? changedRect(this.paper, frame) : null;
      if (this.paper && rect && this.partialAllowed(now, rect.width * rect.height)) {
        await controller.partialRefresh(this.paper, frame, rect);
        this.partialsSinceFull++;
        this.counters.partialRefreshes++;
      } else {
        await controller.fullRefresh(frame);
        this.partialsSinceFull = 0;
        this.lastFullMs = now;
        this.counters.fullRefreshes++;
      }
      // Measured once the refresh is done: the panel's interval runs from the refresh itself.
      this.lastRefreshMs = this.options.clock();
      this.paper = frame;
      if (this.pending === frame) this.pending = null;
      this.counters.framesSent++;
      if (!this.counters.ok) logger?.info('e-paper refreshes again');
      this.counters.ok = true;
    } catch (err) {
      const message = (err as Error).message;
      if (this.counters.lastError !== message)
        logger?.warn({ err: message }, 'e-paper refresh failed');
      this.counters.ok = false;
      this.counters.failures++;
      this.counters.lastError = message;
      // The controller's state is unknown after a failure; the next refresh is a full one.
      this.paper = null;
      this.counters.retries++;
      this.retryAtMs = this.options.clock() + RETRY_MS;
    }
  }

  private partialAllowed(now: number, changedPixels: number): boolean {
    const { policy, controller, width, height } = this.options;
    if (!controller.supportsPartial || policy.partialsBeforeFull === 0) return false;
    if (this.lastFullMs === null || this.partialsSinceFull >= policy.partialsBeforeFull)
      return false;
    if (now - this.lastFullMs >= policy.fullEveryHours * 3_600_000) return false;
    return changedPixels <= PARTIAL_MAX_SHARE * width * height;
  }
}
