/**
 * The seam between the panel protocol and the wire. Driver and simulator only
 * see SerialLink, so either end can run over a UART, a USB adapter or a pty.
 */
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';

export interface SerialLink {
  open(): Promise<void>;
  /** Resolves once the bytes have left the host (drained), not when the far end read them. */
  write(data: Buffer): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  close(): Promise<void>;
}

export interface SerialPortLinkOptions {
  path: string;
  baudRate: number;
  logger?: Logger;
}

export class SerialPortLink implements SerialLink {
  private port: SerialPort | undefined;
  private readonly listeners: Array<(chunk: Buffer) => void> = [];

  constructor(private readonly options: SerialPortLinkOptions) {}

  async open(): Promise<void> {
    if (this.port?.isOpen) return;
    const { path, baudRate, logger } = this.options;
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.on('data', (chunk: Buffer) => {
      for (const listener of this.listeners) listener(chunk);
    });
    // Without a listener an 'error' event would crash the process; writes report their own errors.
    port.on('error', (err: Error) => logger?.warn({ path, err: err.message }, 'serial port error'));
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err ? reject(new Error(`cannot open ${path}: ${err.message}`)) : resolve(),
      ),
    );
    this.port = port;
  }

  async write(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) throw new Error(`serial port ${this.options.path} is not open`);
    await new Promise<void>((resolve, reject) => {
      port.write(data, (err) => {
        if (err) reject(err);
      });
      port.drain((err) => (err ? reject(err) : resolve()));
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    const port = this.port;
    this.port = undefined;
    if (!port?.isOpen) return;
    await new Promise<void>((resolve, reject) =>
      port.close((err) => (err ? reject(err) : resolve())),
    );
  }
}
