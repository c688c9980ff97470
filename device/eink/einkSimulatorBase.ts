/**
 * What every e-paper controller simulator shares: the panel's rules and their
 * counters, the paper, the bus being opened, and listeners told after each
 * refresh. Each controller adds its own protocol on top.
 */
import type { GpioSimulator } from '../gpio/gpioSimulator';
import { createFrame, type IndexedFrame } from '../render/frame';
import { EinkRules, type EinkRefreshPolicy } from './einkRules';

export interface EinkSimulatorBaseOptions {
  gpio: GpioSimulator;
  /** The controller's BUSY (or HRDY) line, which it drives. */
  wiring: { busy: number };
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
  /** BUSY asserted; the line, not a clock, is what the driver can see. */
  protected busy = false;
  private busyTimer: NodeJS.Timeout | undefined;
  private readonly refreshListeners: Array<() => void> = [];
  private readonly gpio: GpioSimulator;
  private readonly busyLine: number;

  constructor(options: EinkSimulatorBaseOptions) {
    this.rules = new EinkRules(options.policy, options.clock);
    this.temperatureC = options.temperatureC ?? 20;
    this.paper = createFrame(options.width, options.height);
    this.gpio = options.gpio;
    this.busyLine = options.wiring.busy;
    this.gpio.setInput(this.busyLine, 1);
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

  /** Holds BUSY low for `ms`, as the controller does while it works. */
  protected setBusy(ms: number): void {
    this.busy = true;
    this.gpio.setInput(this.busyLine, 0);
    clearTimeout(this.busyTimer);
    this.busyTimer = setTimeout(() => {
      this.busy = false;
      this.gpio.setInput(this.busyLine, 1);
    }, ms);
  }
}
