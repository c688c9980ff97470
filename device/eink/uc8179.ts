/**
 * UltraChip UC8179-class e-paper controllers (7.5" 800x480 black/white; the
 * same command set drives UC8151-class 2.9" 296x128 black/white/red) over SPI,
 * with BUSY (low while busy), RST (low resets), DC (low: command, high: data)
 * and the panel's power switch on GPIO.
 *
 * Image planes are 1 bit per pixel, MSB first, rows top to bottom. Black/white
 * panels: DTM1 carries the old image, DTM2 the new one, 1 = white. Black/white/
 * red panels: DTM1 is the black plane (1 = white), DTM2 the red plane (1 = red).
 */
import type { Gpio, GpioInput, GpioOutput } from '../gpio/gpio';
import type { IndexedFrame, Rect } from '../render/frame';
import { sleep, waitWhileBusy, type EinkController } from './einkController';
import type { SpiBus } from './spiBus';

export const Uc8179Command = {
  panelSetting: 0x00,
  powerSetting: 0x01,
  powerOff: 0x02,
  powerOn: 0x04,
  deepSleep: 0x07,
  dataStart1: 0x10,
  displayRefresh: 0x12,
  dataStart2: 0x13,
  temperature: 0x40,
  vcomDataInterval: 0x50,
  resolution: 0x61,
  partialWindow: 0x90,
  partialIn: 0x91,
  partialOut: 0x92,
} as const;

/** Deep sleep only takes this check byte, so noise cannot put the panel to sleep. */
export const DEEP_SLEEP_CHECK = 0xa5;

export interface Uc8179Wiring {
  busy: number;
  reset: number;
  dc: number;
  power: number;
}

export interface Uc8179Options {
  spi: SpiBus;
  gpio: Gpio;
  wiring: Uc8179Wiring;
  width: number;
  height: number;
  /** Black/white/red glass: two planes, full refresh only. */
  red: boolean;
  /** Longest a refresh may keep BUSY; default 40 s (red pigment is slow). */
  busyTimeoutMs?: number;
}

export class Uc8179 implements EinkController {
  readonly supportsPartial: boolean;
  private busy: GpioInput | undefined;
  private reset: GpioOutput | undefined;
  private dc: GpioOutput | undefined;
  private power: GpioOutput | undefined;

  constructor(private readonly options: Uc8179Options) {
    this.supportsPartial = !options.red;
  }

  async start(): Promise<void> {
    const { gpio, wiring } = this.options;
    this.busy ??= gpio.input(wiring.busy);
    this.reset ??= gpio.output(wiring.reset, 1);
    this.dc ??= gpio.output(wiring.dc, 0);
    this.power ??= gpio.output(wiring.power, 0);
    await this.options.spi.open();
  }

  async stop(): Promise<void> {
    await this.power?.write(0);
    for (const line of [this.busy, this.reset, this.dc, this.power]) line?.release();
    this.busy = this.reset = this.dc = this.power = undefined;
    await this.options.spi.close();
  }

  async readTemperature(): Promise<number> {
    await this.wake();
    try {
      await this.command(Uc8179Command.temperature);
      await this.dcLine().write(1);
      const reply = await this.options.spi.transfer(Buffer.of(0));
      return reply.readInt8(0);
    } finally {
      await this.sleep();
    }
  }

  async fullRefresh(frame: IndexedFrame): Promise<void> {
    await this.wake();
    try {
      const all = { x: 0, y: 0, width: frame.width, height: frame.height };
      if (this.options.red) {
        await this.command(
          Uc8179Command.dataStart1,
          plane(frame, all, (p) => p !== 1),
        );
        await this.command(
          Uc8179Command.dataStart2,
          plane(frame, all, (p) => p === 2),
        );
      } else {
        // Full refresh drives every pixel from white; the old plane is unused but must be loaded.
        await this.command(
          Uc8179Command.dataStart1,
          plane(frame, all, () => true),
        );
        await this.command(
          Uc8179Command.dataStart2,
          plane(frame, all, (p) => p === 0),
        );
      }
      await this.refresh();
    } finally {
      await this.sleep();
    }
  }

  async partialRefresh(previous: IndexedFrame, frame: IndexedFrame, rect: Rect): Promise<void> {
    if (!this.supportsPartial) throw new Error('this panel refreshes whole only');
    const window = alignToBytes(rect, frame.width);
    await this.wake();
    try {
      await this.command(Uc8179Command.partialIn);
      await this.command(Uc8179Command.partialWindow, partialWindowBytes(window));
      await this.command(
        Uc8179Command.dataStart1,
        plane(previous, window, (p) => p === 0),
      );
      await this.command(
        Uc8179Command.dataStart2,
        plane(frame, window, (p) => p === 0),
      );
      await this.refresh();
      await this.command(Uc8179Command.partialOut);
    } finally {
      await this.sleep();
    }
  }

  /** Power on the panel, reset the controller out of deep sleep, configure, charge pumps on. */
  private async wake(): Promise<void> {
    const { width, height, red } = this.options;
    await this.line(this.power).write(1);
    await sleep(2);
    await this.line(this.reset).write(0);
    await sleep(2);
    await this.line(this.reset).write(1);
    await sleep(2);
    await this.waitIdle('reset');
    await this.command(Uc8179Command.powerSetting, Buffer.of(0x07, 0x07, 0x3f, 0x3f));
    // KW (black/white) or KWR (black/white/red) mode, LUT from OTP.
    await this.command(Uc8179Command.panelSetting, Buffer.of(red ? 0x0f : 0x1f));
    await this.command(
      Uc8179Command.resolution,
      Buffer.of(width >> 8, width & 0xff, height >> 8, height & 0xff),
    );
    await this.command(Uc8179Command.vcomDataInterval, Buffer.of(0x10, 0x07));
    await this.command(Uc8179Command.powerOn);
  }

  private async refresh(): Promise<void> {
    await this.command(Uc8179Command.displayRefresh);
    await sleep(1);
  }

  /** Charge pumps off, then deep sleep; the next wake needs a reset. */
  private async sleep(): Promise<void> {
    await this.command(Uc8179Command.powerOff);
    await this.command(Uc8179Command.deepSleep, Buffer.of(DEEP_SLEEP_CHECK));
    await this.line(this.power).write(0);
  }

  /** Every command waits for BUSY first: the controller ignores bytes while busy. */
  private async command(code: number, data?: Buffer): Promise<void> {
    await this.waitIdle(`before command 0x${code.toString(16)}`);
    await this.dcLine().write(0);
    await this.options.spi.write(Buffer.of(code));
    if (data && data.length > 0) {
      await this.dcLine().write(1);
      await this.options.spi.write(data);
    }
  }

  private waitIdle(what: string): Promise<void> {
    return waitWhileBusy(this.line(this.busy), 1, this.options.busyTimeoutMs ?? 40_000, what);
  }

  private dcLine(): GpioOutput {
    return this.line(this.dc);
  }

  private line<T>(line: T | undefined): T {
    if (!line) throw new Error('controller not started');
    return line;
  }
}

/** Partial windows start and end on whole bytes: 8 pixels horizontally. */
export function alignToBytes(rect: Rect, width: number): Rect {
  const x = Math.floor(rect.x / 8) * 8;
  const end = Math.min(width, Math.ceil((rect.x + rect.width) / 8) * 8);
  return { x, y: rect.y, width: end - x, height: rect.height };
}

/** PTL: horizontal start/end, vertical start/end (u16 each), then "scan inside only". */
export function partialWindowBytes(r: Rect): Buffer {
  const xEnd = r.x + r.width - 1;
  const yEnd = r.y + r.height - 1;
  return Buffer.of(
    r.x >> 8,
    r.x & 0xff,
    xEnd >> 8,
    xEnd & 0xff,
    r.y >> 8,
    r.y & 0xff,
    yEnd >> 8,
    yEnd & 0xff,
    0x01,
  );
}

export function decodePartialWindow(data: Buffer): Rect {
  const x = data.readUInt16BE(0);
  const y = data.readUInt16BE(4);
  return { x, y, width: data.readUInt16BE(2) - x + 1, height: data.readUInt16BE(6) - y + 1 };
}

/** One bit per pixel of `rect`, MSB first; a pixel's bit is set when `on(index)` holds. */
export function plane(frame: IndexedFrame, rect: Rect, on: (index: number) => boolean): Buffer {
  const rowBytes = Math.ceil(rect.width / 8);
  const out = Buffer.alloc(rowBytes * rect.height);
  for (let y = 0; y < rect.height; y++) {
    const from = (rect.y + y) * frame.width + rect.x;
    for (let x = 0; x < rect.width; x++) {
      if (on(frame.pixels[from + x] ?? 0)) out[y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return out;
}
