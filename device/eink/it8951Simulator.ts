/**
 * An IT8951 controller and its 16-grey paper behind the driver's SPI and GPIO
 * seams. Checks HRDY before every transaction, the preamble protocol, image
 * loads inside the panel, and the refresh rules (einkRules.ts): a partial
 * update only once the controller knows what the paper shows (after a full
 * refresh since its last reset), DU only for pure black and white, sleep
 * after each refresh, temperature and rate limits.
 */
import { createFrame, type IndexedFrame, type Rect } from '../render/frame';
import type { GpioSimulator } from '../gpio/gpioSimulator';
import type { EinkRefreshPolicy } from './einkRules';
import { EinkSimulatorBase } from './einkSimulatorBase';
import {
  It8951Command,
  It8951Mode,
  It8951Preamble,
  LISAR,
  unpackGrey4,
  type It8951Wiring,
} from './it8951';
import type { SpiBus } from './spiBus';

export interface It8951SimulatorOptions {
  gpio: GpioSimulator;
  wiring: It8951Wiring;
  width: number;
  height: number;
  policy: EinkRefreshPolicy;
  clock: () => number;
  temperatureC?: number;
  refreshMs?: number;
}

const ARG_COUNT: Record<number, number> = {
  [It8951Command.registerWrite]: 2,
  [It8951Command.loadImageArea]: 5,
  [It8951Command.displayArea]: 5,
  [It8951Command.vcom]: 2,
  [It8951Command.temperature]: 1,
};

const IMAGE_BUFFER_ADDRESS = 0x001236e0;

/** The paper's glass indices: 0 paper white ... 15 black. */
export class It8951Simulator extends EinkSimulatorBase implements SpiBus {
  private readonly buffer: IndexedFrame;
  private powered = false;
  private running = false;
  private knowsPaper = false;
  private command: number | null = null;
  private args: number[] = [];
  private loading: Rect | null = null;
  private pendingRead: number[] = [];
  private readonly registers = new Map<number, number>();
  /** Every command word, in order. */
  readonly commands: number[] = [];
  /** Display modes of every refresh, in order. */
  readonly modes: number[] = [];

  constructor(private readonly options: It8951SimulatorOptions) {
    super(options);
    this.buffer = createFrame(options.width, options.height);
    const { gpio, wiring } = options;
    gpio.onWrite(({ line, level }) => {
      if (line === wiring.power) {
        if (level === 0 && this.rules.awakeAfterRefresh)
          this.rules.fail('power cut after a refresh without sleep');
        this.powered = level === 1;
        this.running = false;
        this.knowsPaper = false;
      }
      if (line === wiring.reset && level === 0) {
        this.running = false;
        this.knowsPaper = false;
        this.registers.clear();
        this.setBusy(2);
      }
    });
  }

  async write(bytes: Buffer): Promise<void> {
    this.check();
    const preamble = bytes.readUInt16BE(0);
    const payload = bytes.subarray(2);
    if (preamble === It8951Preamble.command) return this.startCommand(payload.readUInt16BE(0));
    if (preamble !== It8951Preamble.write)
      this.rules.fail(`unknown preamble 0x${preamble.toString(16)}`);
    if (this.loading) return this.loadPixels(payload);
    if (this.command === null) this.rules.fail('data word with no command');
    this.args.push(payload.readUInt16BE(0));
    if (this.args.length >= (ARG_COUNT[this.command] ?? 0)) this.finishCommand();
  }

  async transfer(bytes: Buffer): Promise<Buffer> {
    this.check();
    if (bytes.readUInt16BE(0) !== It8951Preamble.read)
      this.rules.fail('read without the read preamble');
    const count = (bytes.length - 4) / 2;
    if (this.pendingRead.length < count)
      this.rules.fail(`read of ${count} words, ${this.pendingRead.length} ready`);
    const reply = Buffer.alloc(bytes.length);
    this.pendingRead.splice(0, count).forEach((w, i) => reply.writeUInt16BE(w & 0xffff, 4 + i * 2));
    return reply;
  }

  private check(): void {
    if (!this.opened) this.rules.fail('SPI used before the bus was opened');
    if (!this.powered) this.rules.fail('SPI traffic to an unpowered controller');
    if (this.busy) this.rules.fail('SPI transaction while HRDY is low');
  }

  private startCommand(code: number): void {
    if (this.command !== null)
      this.rules.fail(
        `command 0x${code.toString(16)} before 0x${this.command.toString(16)} had its arguments`,
      );
    this.commands.push(code);
    const name = `command 0x${code.toString(16).padStart(4, '0')}`;
    if (!this.running && code !== It8951Command.run)
      this.rules.fail(`${name} while asleep (send SYS_RUN first)`);
    this.rules.command(name, code === It8951Command.sleep || code === It8951Command.standby);
    this.command = code;
    this.args = [];
    if ((ARG_COUNT[code] ?? 0) === 0) this.finishCommand();
  }

  private finishCommand(): void {
    const code = this.command;
    const args = this.args;
    this.command = null;
    this.args = [];
    switch (code) {
      case It8951Command.run:
        this.running = true;
        this.setBusy(1);
        break;
      case It8951Command.sleep:
      case It8951Command.standby:
        this.running = false;
        this.rules.asleep();
        break;
      case It8951Command.deviceInfo:
        this.pendingRead = [
          this.options.width,
          this.options.height,
          IMAGE_BUFFER_ADDRESS & 0xffff,
          IMAGE_BUFFER_ADDRESS >>> 16,
          ...new Array<number>(16).fill(0),
        ];
        break;
      case It8951Command.registerWrite:
        this.registers.set(args[0] ?? 0, args[1] ?? 0);
        break;
      case It8951Command.temperature:
        this.pendingRead = [Math.round(this.temperatureC) & 0xffff];
        break;
      case It8951Command.loadImageArea:
        this.startLoad(args);
        break;
      case It8951Command.loadImageEnd:
        break;
      case It8951Command.displayArea:
        this.display(args);
        break;
    }
  }

  private startLoad(args: number[]): void {
    const address = ((this.registers.get(LISAR + 2) ?? 0) << 16) | (this.registers.get(LISAR) ?? 0);
    if (address !== IMAGE_BUFFER_ADDRESS)
      this.rules.fail('image loaded before the buffer address was set');
    const [format = 0, x = 0, y = 0, width = 0, height = 0] = args;
    if (((format >> 4) & 0x3) !== 2) this.rules.fail('only 4 bits per pixel is wired up');
    const area = { x, y, width, height };
    this.inside(area, 'image load');
    if (x % 4 !== 0) this.rules.fail('4 bpp image load not on a word boundary');
    this.loading = area;
  }

  private loadPixels(payload: Buffer): void {
    const area = this.loading as Rect;
    this.loading = null;
    const expected = Math.ceil(area.width / 4) * 2 * area.height;
    if (payload.length !== expected)
      this.rules.fail(
        `image data of ${payload.length} bytes for ${area.width}x${area.height} (${expected})`,
      );
    const pixels = unpackGrey4(payload, area.width, area.height);
    for (let y = 0; y < area.height; y++) {
      this.buffer.pixels.set(
        pixels.subarray(y * area.width, (y + 1) * area.width),
        (area.y + y) * this.options.width + area.x,
      );
    }
  }

  private display(args: number[]): void {
    const [x = 0, y = 0, width = 0, height = 0, mode = 0] = args;
    const area = { x, y, width, height };
    this.inside(area, 'display area');
    const whole =
      x === 0 && y === 0 && width === this.options.width && height === this.options.height;
    const full = whole && (mode === It8951Mode.gc16 || mode === It8951Mode.init);
    if (!full && !this.knowsPaper)
      this.rules.fail('partial refresh before the controller knows what the paper shows');
    this.modes.push(mode);
    for (let row = y; row < y + height; row++) {
      for (let col = x; col < x + width; col++) {
        const at = row * this.options.width + col;
        const value = this.buffer.pixels[at] ?? 0;
        if (mode === It8951Mode.du && value !== 0 && value !== 15)
          this.rules.fail('DU refresh of grey pixels (black and white only)');
        this.paper.pixels[at] = value;
      }
    }
    this.rules.refresh(full ? 'full' : 'partial', this.temperatureC);
    if (full) this.knowsPaper = true;
    this.setBusy(full ? 20 : 8);
    this.refreshed();
  }

  private inside(area: Rect, what: string): void {
    const { width, height } = this.options;
    if (
      area.width < 1 ||
      area.height < 1 ||
      area.x + area.width > width ||
      area.y + area.height > height
    ) {
      this.rules.fail(
        `${what} ${area.width}x${area.height}@${area.x},${area.y} outside the ${width}x${height} panel`,
      );
    }
  }
}
