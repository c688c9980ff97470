/**
 * The narrow seam to an SPI bus: bytes out, bytes back. The real one is
 * spi-device on /dev/spidevB.C; the controller simulators implement it too.
 */
import { createRequire } from 'node:module';
import type { SpiDevice } from 'spi-device';

export interface SpiBus {
  open(): Promise<void>;
  /** Clocks the bytes out; chip select spans the whole call. */
  write(data: Buffer): Promise<void>;
  /** Clocks `data` out and returns what came back in the same clocks. */
  transfer(data: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}

export interface SpiDeviceBusOptions {
  /** /dev/spidevB.C */
  device: string;
  speedHz: number;
  mode: 0 | 1 | 2 | 3;
}

/** spidev's default buffer is 4096 bytes; longer writes go in pieces. */
const CHUNK = 4096;

export class SpiDeviceBus implements SpiBus {
  private device: SpiDevice | undefined;

  constructor(private readonly options: SpiDeviceBusOptions) {}

  async open(): Promise<void> {
    if (this.device) return;
    const match = /^\/dev\/spidev(\d+)\.(\d+)$/.exec(this.options.device);
    if (!match) throw new Error(`not an spidev path: ${this.options.device}`);
    const spi = createRequire(import.meta.url)('spi-device') as typeof import('spi-device');
    this.device = await new Promise<SpiDevice>((resolve, reject) => {
      const device = spi.open(
        Number(match[1]),
        Number(match[2]),
        { mode: this.options.mode, maxSpeedHz: this.options.speedHz },
        (err) => (err ? reject(err) : resolve(device)),
      );
    });
  }

  async write(data: Buffer): Promise<void> {
    for (let at = 0; at < data.length; at += CHUNK) {
      await this.exchange(data.subarray(at, at + CHUNK), false);
    }
  }

  async transfer(data: Buffer): Promise<Buffer> {
    return this.exchange(data, true);
  }

  async close(): Promise<void> {
    const device = this.device;
    this.device = undefined;
    if (device) await new Promise<void>((resolve) => device.close(() => resolve()));
  }

  private exchange(data: Buffer, read: boolean): Promise<Buffer> {
    const device = this.device;
    if (!device) return Promise.reject(new Error('SPI bus not open'));
    const receiveBuffer = read ? Buffer.alloc(data.length) : undefined;
    const message = [
      {
        sendBuffer: data,
        byteLength: data.length,
        speedHz: this.options.speedHz,
        ...(receiveBuffer ? { receiveBuffer } : {}),
      },
    ];
    return new Promise((resolve, reject) =>
      device.transfer(message, (err) =>
        err ? reject(err) : resolve(receiveBuffer ?? Buffer.alloc(0)),
      ),
    );
  }
}
