/**
 * A UC8179-class controller and its paper, behind the same SPI and GPIO seams
 * the driver uses. It holds the driver to the datasheet and the panel's
 * rules (einkRules.ts): BUSY honoured before every command, nothing while
 * unpowered or in deep sleep without a reset, a partial refresh only with the
 * paper's true old image, and the refresh policy of the profile.
 */
import type { Rect } from '../render/frame';
import type { GpioSimulator } from '../gpio/gpioSimulator';
import type { EinkRefreshPolicy } from './einkRules';
import { EinkSimulatorBase } from './einkSimulatorBase';
import type { SpiBus } from './spiBus';
import {
  DEEP_SLEEP_CHECK,
  decodePartialWindow,
  plane,
  Uc8179Command,
  type Uc8179Wiring,
} from './uc8179';

export interface Uc8179SimulatorOptions {
  gpio: GpioSimulator;
  wiring: Uc8179Wiring;
  width: number;
  height: number;
  red: boolean;
  policy: EinkRefreshPolicy;
  /** Epoch milliseconds; the driver's clock. */
  clock: () => number;
  temperatureC?: number;
  /** How long BUSY stays low; small in tests, seconds on real glass. */
  timing?: Partial<Uc8179Timing>;
}

export interface Uc8179Timing {
  resetMs: number;
  powerOnMs: number;
  powerOffMs: number;
  fullRefreshMs: number;
  partialRefreshMs: number;
}

const DEFAULT_TIMING: Uc8179Timing = {
  resetMs: 3,
  powerOnMs: 3,
  powerOffMs: 2,
  fullRefreshMs: 20,
  partialRefreshMs: 8,
};

const FIXED_LENGTH: Record<number, number> = {
  [Uc8179Command.panelSetting]: 1,
  [Uc8179Command.powerSetting]: 4,
  [Uc8179Command.resolution]: 4,
  [Uc8179Command.vcomDataInterval]: 2,
  [Uc8179Command.partialWindow]: 9,
  [Uc8179Command.deepSleep]: 1,
};

const SLEEP_PATH = new Set<number>([
  Uc8179Command.powerOff,
  Uc8179Command.deepSleep,
  Uc8179Command.partialOut,
]);

/** The paper's glass indices: 0 white, 1 black, 2 red. */
export class Uc8179Simulator extends EinkSimulatorBase implements SpiBus {
  private readonly timing: Uc8179Timing;
  private powered = false;
  private deepSleep = true;
  private dc = 0;
  private command: number | null = null;
  private data: number[] = [];
  private old: Buffer | null = null;
  private next: Buffer | null = null;
  private partialMode = false;
  private window: Rect | null = null;
  private powerOn = false;
  /** Every command byte, for tests that want to see the sequence. */
  readonly commands: number[] = [];

  constructor(private readonly options: Uc8179SimulatorOptions) {
    super(options);
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    const { gpio, wiring } = options;
    gpio.onWrite(({ line, level }) => {
      if (line === wiring.dc) this.dc = level;
      if (line === wiring.power) {
        this.powered = level === 1;
        if (!this.powered) this.lose();
      }
      if (line === wiring.reset && level === 1 && this.powered) this.reset();
      if (line === wiring.reset && level === 0) this.setBusy(this.timing.resetMs);
    });
  }

  async write(bytes: Buffer): Promise<void> {
    this.check();
    if (this.dc === 0) {
      for (const code of bytes) this.startCommand(code);
      return;
    }
    if (this.command === null) this.rules.fail('data with no command');
    for (const byte of bytes) this.data.push(byte);
    const fixed = FIXED_LENGTH[this.command];
    if (fixed !== undefined && this.data.length >= fixed) this.finishCommand();
  }

  async transfer(bytes: Buffer): Promise<Buffer> {
    this.check();
    if (this.dc === 1 && this.command === Uc8179Command.temperature) {
      const reply = Buffer.alloc(bytes.length);
      reply.writeInt8(Math.max(-128, Math.min(127, Math.round(this.temperatureC))), 0);
      return reply;
    }
    return this.rules.fail('read with no register to read');
  }

  private check(): void {
    if (!this.opened) this.rules.fail('SPI used before the bus was opened');
    if (!this.powered) this.rules.fail('SPI traffic to an unpowered panel');
  }

  private startCommand(code: number): void {
    this.finishCommand();
    this.commands.push(code);
    const name = `command 0x${code.toString(16).padStart(2, '0')}`;
    if (this.busy) this.rules.fail(`${name} while BUSY`);
    if (this.deepSleep) this.rules.fail(`${name} in deep sleep (needs a reset)`);
    this.rules.command(name, SLEEP_PATH.has(code));
    this.command = code;
    this.data = [];
    switch (code) {
      case Uc8179Command.powerOn:
        this.powerOn = true;
        this.setBusy(this.timing.powerOnMs);
        break;
      case Uc8179Command.powerOff:
        this.powerOn = false;
        this.setBusy(this.timing.powerOffMs);
        break;
      case Uc8179Command.partialIn:
        this.partialMode = true;
        break;
      case Uc8179Command.partialOut:
        this.partialMode = false;
        break;
      case Uc8179Command.displayRefresh:
        this.displayRefresh();
        break;
    }
  }

  private finishCommand(): void {
    const code = this.command;
    if (code === null) return;
    const data = Buffer.from(this.data);
    this.command = null;
    this.data = [];
    if (code === Uc8179Command.dataStart1) this.old = data;
    if (code === Uc8179Command.dataStart2) this.next = data;
    if (code === Uc8179Command.partialWindow) this.window = decodePartialWindow(data);
    if (code === Uc8179Command.deepSleep) {
      if (data[0] !== DEEP_SLEEP_CHECK) this.rules.fail('deep sleep without its check byte');
      if (this.powerOn) this.rules.fail('deep sleep with the charge pumps still on');
      this.deepSleep = true;
      this.rules.asleep();
    }
  }

  private displayRefresh(): void {
    const { width, height, red } = this.options;
    if (!this.powerOn) this.rules.fail('refresh with the charge pumps off');
    const full = { x: 0, y: 0, width, height };
    const area = this.partialMode ? this.window : full;
    if (!area) return this.rules.fail('partial refresh without a window');
    if (area.x % 8 !== 0 || (area.width % 8 !== 0 && area.x + area.width !== width)) {
      this.rules.fail('partial window not on byte boundaries');
    }
    const bytes = Math.ceil(area.width / 8) * area.height;
    if (this.next?.length !== bytes || this.old?.length !== bytes) {
      this.rules.fail(
        `image planes of ${this.old?.length ?? 0}/${this.next?.length ?? 0} bytes for a ${area.width}x${area.height} area (${bytes} each)`,
      );
    }
    if (this.partialMode) {
      const truth = plane(this.paper, area, (p) => p === 0);
      if (!truth.equals(this.old))
        this.rules.fail('partial refresh with an old image that is not what the paper shows');
    }
    this.rules.refresh(this.partialMode ? 'partial' : 'full', this.temperatureC);
    const rowBytes = Math.ceil(area.width / 8);
    const bit = (buffer: Buffer, x: number, y: number): boolean =>
      ((buffer[y * rowBytes + (x >> 3)] ?? 0) & (0x80 >> (x & 7))) !== 0;
    for (let y = 0; y < area.height; y++) {
      for (let x = 0; x < area.width; x++) {
        let index: number;
        if (red) index = bit(this.next, x, y) ? 2 : bit(this.old, x, y) ? 0 : 1;
        else index = bit(this.next, x, y) ? 0 : 1;
        this.paper.pixels[(area.y + y) * width + area.x + x] = index;
      }
    }
    this.setBusy(this.partialMode ? this.timing.partialRefreshMs : this.timing.fullRefreshMs);
    this.refreshed();
  }

  private reset(): void {
    this.deepSleep = false;
    this.powerOn = false;
    this.partialMode = false;
    this.command = null;
    this.old = this.next = null;
  }

  /** Power cut: the controller forgets everything; the paper keeps its picture. */
  private lose(): void {
    if (this.rules.awakeAfterRefresh)
      this.rules.fail('power cut after a refresh without deep sleep');
    this.reset();
    this.deepSleep = true;
  }
}
