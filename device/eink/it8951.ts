/**
 * ITE IT8951 e-paper timing controllers (13.3" 1600x1200, 16 grey levels)
 * over SPI. Every SPI transaction starts with a 16-bit preamble saying what
 * follows (command, data written, data read), so there is no DC line; HRDY
 * (high when ready) takes BUSY's place and is waited for before every
 * transaction. Words are 16-bit, most significant byte first.
 *
 * Pixels go as 4 bits per pixel, 4 pixels a word (first pixel in the low
 * nibble), grey 0 = black, 15 = white.
 */
import type { Gpio, GpioInput, GpioOutput } from '../gpio/gpio';
import type { IndexedFrame, Rect } from '../render/frame';
import { sleep, waitWhileBusy, type EinkController } from './einkController';
import type { SpiBus } from './spiBus';

export const It8951Preamble = { command: 0x6000, write: 0x0000, read: 0x1000 } as const;

export const It8951Command = {
  run: 0x0001,
  standby: 0x0002,
  sleep: 0x0003,
  registerWrite: 0x0011,
  loadImageArea: 0x0021,
  loadImageEnd: 0x0022,
  displayArea: 0x0034,
  vcom: 0x0039,
  temperature: 0x0040,
  deviceInfo: 0x0302,
} as const;

/** Waveform modes: INIT clears, GC16 is the full 16-grey refresh, GL16 the fast grey one, DU black/white only. */
export const It8951Mode = { init: 0, du: 1, gc16: 2, gl16: 3 } as const;

/** Image buffer base address registers (LISAR). */
export const LISAR = 0x0208;
const BPP_4 = 2;

export interface It8951Wiring {
  busy: number;
  reset: number;
  power: number;
}

export interface It8951Options {
  spi: SpiBus;
  gpio: Gpio;
  wiring: It8951Wiring;
  width: number;
  height: number;
  vcomMv: number;
  busyTimeoutMs?: number;
}

export class It8951 implements EinkController {
  readonly supportsPartial = true;
  private busy: GpioInput | undefined;
  private reset: GpioOutput | undefined;
  private power: GpioOutput | undefined;
  private initialised = false;

  constructor(private readonly options: It8951Options) {}

  async start(): Promise<void> {
    const { gpio, wiring } = this.options;
    this.busy ??= gpio.input(wiring.busy);
    this.reset ??= gpio.output(wiring.reset, 1);
    this.power ??= gpio.output(wiring.power, 0);
    await this.options.spi.open();
  }

  async stop(): Promise<void> {
    await this.power?.write(0);
    for (const line of [this.busy, this.reset, this.power]) line?.release();
    this.busy = this.reset = this.power = undefined;
    this.initialised = false;
    await this.options.spi.close();
  }

  async readTemperature(): Promise<number> {
    await this.wake();
    try {
      await this.command(It8951Command.temperature, [0]);
      const [value = 0] = await this.readWords(1);
      return value >= 0x8000 ? value - 0x10000 : value;
    } finally {
      await this.sleep();
    }
  }

  async fullRefresh(frame: IndexedFrame): Promise<void> {
    const all = { x: 0, y: 0, width: frame.width, height: frame.height };
    await this.wake();
    try {
      await this.load(frame, all);
      await this.command(It8951Command.displayArea, [
        0,
        0,
        frame.width,
        frame.height,
        It8951Mode.gc16,
      ]);
    } finally {
      await this.sleep();
    }
  }

  async partialRefresh(_previous: IndexedFrame, frame: IndexedFrame, rect: Rect): Promise<void> {
    // The controller keeps the image it last showed, so only the new pixels go over the bus.
    const area = alignToWords(rect, frame.width);
    const mode = onlyBlackAndWhite(frame, area) ? It8951Mode.du : It8951Mode.gl16;
    await this.wake();
    try {
      await this.load(frame, area);
      await this.command(It8951Command.displayArea, [
        area.x,
        area.y,
        area.width,
        area.height,
        mode,
      ]);
    } finally {
      await this.sleep();
    }
  }

  /** First wake after power-up: reset, run, read the image buffer address, set VCOM. Later: run. */
  private async wake(): Promise<void> {
    if (!this.initialised) {
      await this.line(this.power).write(1);
      await sleep(2);
      await this.line(this.reset).write(0);
      await sleep(2);
      await this.line(this.reset).write(1);
      await this.command(It8951Command.run);
      await this.command(It8951Command.deviceInfo);
      const info = await this.readWords(20);
      const [width, height, addressLow = 0, addressHigh = 0] = info;
      if (width !== this.options.width || height !== this.options.height) {
        throw new Error(
          `controller drives ${width}x${height}, profile says ${this.options.width}x${this.options.height}`,
        );
      }
      await this.command(It8951Command.registerWrite, [LISAR + 2, addressHigh]);
      await this.command(It8951Command.registerWrite, [LISAR, addressLow]);
      await this.command(It8951Command.vcom, [1, this.options.vcomMv]);
      this.initialised = true;
      return;
    }
    await this.command(It8951Command.run);
  }

  private async sleep(): Promise<void> {
    await this.command(It8951Command.sleep);
  }

  private async load(frame: IndexedFrame, area: Rect): Promise<void> {
    await this.command(It8951Command.loadImageArea, [
      (BPP_4 << 4) | 0,
      area.x,
      area.y,
      area.width,
      area.height,
    ]);
    await this.transaction(It8951Preamble.write, packGrey4(frame, area));
    await this.command(It8951Command.loadImageEnd);
  }

  /** A command word, then each argument in its own write transaction. */
  private async command(code: number, args: number[] = []): Promise<void> {
    await this.transaction(It8951Preamble.command, words([code]));
    for (const arg of args) await this.transaction(It8951Preamble.write, words([arg]));
  }

  private async readWords(count: number): Promise<number[]> {
    await this.waitReady('read');
    // Preamble and one dummy word clock in nothing useful; the data follows.
    const request = Buffer.alloc(4 + count * 2);
    request.writeUInt16BE(It8951Preamble.read, 0);
    const reply = await this.options.spi.transfer(request);
    return Array.from({ length: count }, (_, i) => reply.readUInt16BE(4 + i * 2));
  }

  private async transaction(preamble: number, payload: Buffer): Promise<void> {
    await this.waitReady(`preamble 0x${preamble.toString(16)}`);
    await this.options.spi.write(Buffer.concat([words([preamble]), payload]));
  }

  /** HRDY is high when the controller can take the next transaction. */
  private waitReady(what: string): Promise<void> {
    return waitWhileBusy(this.line(this.busy), 1, this.options.busyTimeoutMs ?? 30_000, what);
  }

  private line<T>(line: T | undefined): T {
    if (!line) throw new Error('controller not started');
    return line;
  }
}

export function words(values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => out.writeUInt16BE(v & 0xffff, i * 2));
  return out;
}

/** 4 bpp loads start and end on whole words: 4 pixels horizontally. */
export function alignToWords(rect: Rect, width: number): Rect {
  const x = Math.floor(rect.x / 4) * 4;
  const end = Math.min(width, Math.ceil((rect.x + rect.width) / 4) * 4);
  return { x, y: rect.y, width: end - x, height: rect.height };
}

/** Glass index (0 = paper white ... 15 = black) to the controller's grey (15 = white). */
export function packGrey4(frame: IndexedFrame, area: Rect): Buffer {
  const rowWords = Math.ceil(area.width / 4);
  const out = Buffer.alloc(rowWords * 2 * area.height);
  for (let y = 0; y < area.height; y++) {
    const from = (area.y + y) * frame.width + area.x;
    for (let w = 0; w < rowWords; w++) {
      let word = 0;
      for (let n = 0; n < 4; n++) {
        const x = w * 4 + n;
        const grey = x < area.width ? 15 - (frame.pixels[from + x] ?? 0) : 15;
        word |= (grey & 0x0f) << (n * 4);
      }
      out.writeUInt16BE(word, (y * rowWords + w) * 2);
    }
  }
  return out;
}

export function unpackGrey4(data: Buffer, width: number, height: number): Uint8Array {
  const rowWords = Math.ceil(width / 4);
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const word = data.readUInt16BE((y * rowWords + (x >> 2)) * 2);
      out[y * width + x] = 15 - ((word >> ((x & 3) * 4)) & 0x0f);
    }
  }
  return out;
}

function onlyBlackAndWhite(frame: IndexedFrame, area: Rect): boolean {
  for (let y = area.y; y < area.y + area.height; y++) {
    for (let x = area.x; x < area.x + area.width; x++) {
      const p = frame.pixels[y * frame.width + x] ?? 0;
      if (p !== 0 && p !== 15) return false;
    }
  }
  return true;
}
