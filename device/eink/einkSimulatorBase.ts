/**
 * What every e-paper controller simulator shares: the panel's rules and their
 * counters, the paper, the bus being opened, and listeners told after each
 * refresh. Each controller adds its own protocol on top.
 */
import { createFrame, type IndexedFrame } from '../render/frame';
import { EinkRules, type EinkRefreshPolicy } from './einkRules';

export interface EinkSimulatorBaseOptions {
  width: number;
  height: number;
  policy: EinkRefreshPolicy;
  /** Epoch milliseconds; the driver's clock. */
  clock: () => number;
  temperatureC?: number;
}

export abstract class EinkSimulatorBase {
  readonly rules: EinkRules;
  temperatureC: number;
  /** What the paper shows, in the controller's glass indices. */
  readonly paper: IndexedFrame;
  /** Whether the driver has opened the SPI bus. */
  protected opened = false;
  private readonly refreshListeners: Array<() => void> = [];

  constructor(options: EinkSimulatorBaseOptions) {
    this.rules = new EinkRules(options.policy, options.clock);
    this.temperatureC = options.temperatureC ?? 20;
    this.paper = createFrame(options.width, options.height);
  }

  /** Called after each refresh has changed the paper. */
  onRefresh(listener: () => void): void {
    this.refreshListeners.push(listener);
  }

  get violations(): string[] {
    return this.rules.violations;
  }

  get refreshes(): { full: number; partial: number } {
    return { ...this.rules.counts };
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    this.opened = false;
  }

  protected refreshed(): void {
    for (const listener of this.refreshListeners) listener();
  }
}
