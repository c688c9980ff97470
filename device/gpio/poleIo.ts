/**
 * The pole's own lines, wired as the panel profile says: panel power and
 * backlight (outputs), ambient light, cabinet door and the passenger button
 * (debounced inputs). A line the profile leaves out is a part this sign does
 * not have; everything else works without it.
 */
import { EventEmitter } from 'node:events';
import type { PanelProfile } from '../../shared';
import { DebouncedInput } from './debouncedInput';
import type { Gpio, GpioOutput, Level } from './gpio';

/** Held at least this long, a press asks for the slow repeat. */
export const LONG_PRESS_MS = 1500;
const DEFAULT_DEBOUNCE_MS = 30;

export interface PoleIoEvents {
  /** The cabinet door opened (true) or closed (false). */
  door: [open: boolean];
  /** The light sensor crossed between daylight (true) and dark (false). */
  ambient: [daylight: boolean];
  /** A short press, reported on release. */
  press: [];
  /** A long press, reported as soon as it has lasted LONG_PRESS_MS. */
  longPress: [];
}

export interface PoleIoOptions {
  gpio: Gpio;
  wiring: PanelProfile['gpio'];
  longPressMs?: number;
}

export class PoleIo extends EventEmitter<PoleIoEvents> {
  private power: GpioOutput | undefined;
  private backlight: GpioOutput | undefined;
  private door: DebouncedInput | undefined;
  private ambient: DebouncedInput | undefined;
  private button: DebouncedInput | undefined;
  private longTimer: NodeJS.Timeout | undefined;
  private longFired = false;
  private running = false;

  constructor(private readonly options: PoleIoOptions) {
    super();
  }

  async start(): Promise<void> {
    if (this.running) return;
    const { gpio, wiring } = this.options;
    const settle = wiring.debounceMs ?? DEFAULT_DEBOUNCE_MS;
    if (wiring.panelPower !== undefined) this.power = gpio.output(wiring.panelPower, 1);
    if (wiring.backlight !== undefined) this.backlight = gpio.output(wiring.backlight, 0);
    if (wiring.doorSwitch !== undefined) {
      this.door = new DebouncedInput(gpio.input(wiring.doorSwitch), settle);
      this.door.onChange((level) => this.emit('door', level === 1));
      await this.door.start();
    }
    if (wiring.ambientLight !== undefined) {
      this.ambient = new DebouncedInput(gpio.input(wiring.ambientLight), settle);
      this.ambient.onChange((level) => this.emit('ambient', level === 1));
      await this.ambient.start();
    }
    if (wiring.button !== undefined) {
      this.button = new DebouncedInput(gpio.input(wiring.button), settle);
      this.button.onChange((level) => this.onButton(level));
      await this.button.start();
    }
    this.running = true;
  }

  /** Powers the panel down and gives every line back. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.longTimer);
    await this.power?.write(0);
    await this.backlight?.write(0);
    for (const input of [this.door, this.ambient, this.button]) input?.stop();
    for (const output of [this.power, this.backlight]) output?.release();
    this.power = this.backlight = this.door = this.ambient = this.button = undefined;
  }

  /** Door state now; null when the sign has no door switch. */
  doorOpen(): boolean | null {
    return this.door ? this.door.level === 1 : null;
  }

  /** Daylight now; null when the sign has no light sensor. */
  daylight(): boolean | null {
    return this.ambient ? this.ambient.level === 1 : null;
  }

  async setPanelPower(on: boolean): Promise<void> {
    await this.power?.write(on ? 1 : 0);
  }

  async setBacklight(on: boolean): Promise<void> {
    await this.backlight?.write(on ? 1 : 0);
  }

  private onButton(level: Level): void {
    const longMs = this.options.longPressMs ?? LONG_PRESS_MS;
    if (level === 1) {
      this.longFired = false;
      clearTimeout(this.longTimer);
      this.longTimer = setTimeout(() => {
        this.longFired = true;
        this.emit('longPress');
      }, longMs);
      return;
    }
    clearTimeout(this.longTimer);
    if (!this.longFired) this.emit('press');
  }
}
