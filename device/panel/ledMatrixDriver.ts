/**
 * The sign's Panel on an LED matrix controller over a serial line. Frames go
 * out as the rectangle that changed since the last frame the panel
 * acknowledged, so a ticking clock costs a few dozen bytes, not a screen.
 */
import type { Logger } from 'pino';
import { changedRect, type IndexedFrame, type Rect } from '../render/frame';
import type { Panel, PanelStats } from './panel';
import {
  brightnessPacket,
  decodeInfo,
  fullFramePacket,
  FULL_FRAME_HEADER_BYTES,
  helloPacket,
  KEEPALIVE_INTERVAL_MS,
  MAX_PAYLOAD,
  packedBytes,
  PacketType,
  rectPacket,
  type PanelInfo,
} from './protocol';
import type { SerialLink } from './serialLink';
import { LinkStoppedError, StopAndWait, type StopAndWaitStats } from './stopAndWait';

export interface LedMatrixDriverOptions {
  link: SerialLink;
  width: number;
  height: number;
  /** Wait for a reply after the packet has drained; default 200 ms. */
  ackTimeoutMs?: number;
  /** Resends after the first attempt; default 3. */
  maxRetries?: number;
  /** Bound on one write reaching the wire; default 2000 ms. */
  writeTimeoutMs?: number;
  /** HELLO after this much silence, so the panel's watchdog knows the sign is alive; 0 for none. */
  keepaliveMs?: number;
  logger?: Logger;
}

export interface LedMatrixStats extends PanelStats, StopAndWaitStats {
  fullFramesSent: number;
  rectsSent: number;
  /** show() calls that matched what the panel already shows: nothing sent. */
  framesSkipped: number;
  /** show() calls replaced by a newer frame before they were sent. */
  framesCoalesced: number;
  brightnessSent: number;
  keepalivesSent: number;
}

/** Above this share of the screen a RECT saves too little to be worth it. */
const FULL_FRAME_SHARE = 0.75;

interface Pending<T> {
  value: T;
  resolve(): void;
  reject(err: Error): void;
}

export class LedMatrixDriver implements Panel {
  private readonly transport: StopAndWait;
  private readonly width: number;
  private readonly height: number;
  /** What the glass shows as far as we know; null when unknown (start, after a failure). */
  private acknowledged: IndexedFrame | null = null;
  private pendingFrame: Pending<IndexedFrame> | undefined;
  private pendingBrightness: Pending<number> | undefined;
  private pumping: Promise<void> | undefined;
  private pumpActive = false;
  private running = false;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private lastSendAt = 0;
  private readonly counters = {
    ok: true,
    framesSent: 0,
    failures: 0,
    lastError: undefined as string | undefined,
    fullFramesSent: 0,
    rectsSent: 0,
    framesSkipped: 0,
    framesCoalesced: 0,
    brightnessSent: 0,
    keepalivesSent: 0,
  };

  constructor(private readonly options: LedMatrixDriverOptions) {
    const { width, height } = options;
    if (FULL_FRAME_HEADER_BYTES + packedBytes(width * height) > MAX_PAYLOAD) {
      throw new RangeError(`a ${width}x${height} frame does not fit the protocol's payload limit`);
    }
    this.width = width;
    this.height = height;
    this.transport = new StopAndWait({
      link: options.link,
      ackTimeoutMs: options.ackTimeoutMs ?? 200,
      maxRetries: options.maxRetries ?? 3,
      writeTimeoutMs: options.writeTimeoutMs ?? 2000,
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.transport.start();
    await this.options.link.open();
    this.acknowledged = null;
    this.running = true;
    this.lastSendAt = performance.now();
    const keepaliveMs = this.options.keepaliveMs ?? KEEPALIVE_INTERVAL_MS;
    if (keepaliveMs > 0) {
      this.keepaliveTimer = setInterval(() => this.keepAlive(keepaliveMs), keepaliveMs / 2);
    }
  }

  /** A HELLO when nothing else went out for a while: the panel's watchdog stays fed. */
  private keepAlive(keepaliveMs: number): void {
    if (!this.running || this.pumpActive) return;
    if (performance.now() - this.lastSendAt < keepaliveMs) return;
    this.lastSendAt = performance.now();
    this.transport.send(helloPacket, 'HELLO keepalive').then(
      () => this.counters.keepalivesSent++,
      // A failing line shows up in the next frame's delivery; nothing to add here.
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.keepaliveTimer);
    const stopped = new LinkStoppedError('panel stopped');
    this.pendingFrame?.reject(stopped);
    this.pendingBrightness?.reject(stopped);
    this.pendingFrame = this.pendingBrightness = undefined;
    this.transport.stop();
    await this.pumping;
    await this.options.link.close();
  }

  show(frame: IndexedFrame): Promise<void> {
    if (!this.running) return Promise.reject(new LinkStoppedError('panel not started'));
    const problem = this.checkFrame(frame);
    if (problem) return Promise.reject(new RangeError(problem));
    // Copy: the renderer may reuse its buffer for the next frame while this one waits.
    const copy = { width: frame.width, height: frame.height, pixels: frame.pixels.slice() };
    return new Promise<void>((resolve, reject) => {
      if (this.pendingFrame) {
        this.counters.framesCoalesced++;
        this.pendingFrame.resolve();
      }
      this.pendingFrame = { value: copy, resolve, reject };
      this.kick();
    });
  }

  setBrightness(percent: number): Promise<void> {
    if (!this.running) return Promise.reject(new LinkStoppedError('panel not started'));
    if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
      return Promise.reject(new RangeError(`brightness ${percent} is not a whole percent 0-100`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pendingBrightness?.resolve();
      this.pendingBrightness = { value: percent, resolve, reject };
      this.kick();
    });
  }

  /** Asks the controller who it is (HELLO/INFO). */
  async query(): Promise<PanelInfo> {
    if (!this.running) throw new LinkStoppedError('panel not started');
    const reply = await this.transport.send(helloPacket, 'HELLO');
    const decoded = reply.type === PacketType.info ? decodeInfo(reply.payload) : undefined;
    if (!decoded?.ok) throw new Error('panel answered HELLO without a valid INFO');
    return decoded.info;
  }

  stats(): LedMatrixStats {
    const { lastError, ...counters } = this.counters;
    return {
      ...this.transport.stats(),
      ...counters,
      ...(lastError === undefined ? {} : { lastError }),
    };
  }

  private checkFrame(frame: IndexedFrame): string | undefined {
    if (frame.width !== this.width || frame.height !== this.height) {
      return `frame is ${frame.width}x${frame.height}, panel is ${this.width}x${this.height}`;
    }
    if (frame.pixels.length !== frame.width * frame.height) return 'frame pixel count mismatch';
    const bad = frame.pixels.findIndex((value) => value > 15);
    return bad >= 0 ? `pixel ${bad} is not a palette index 0-15` : undefined;
  }

  private kick(): void {
    if (this.pumpActive) return;
    this.pumpActive = true;
    this.pumping = this.pump();
  }

  /** Sends the newest pending brightness and frame, one packet at a time, until none is left. */
  private async pump(): Promise<void> {
    try {
      while (this.running && (this.pendingBrightness || this.pendingFrame)) {
        const brightness = this.pendingBrightness;
        this.pendingBrightness = undefined;
        if (brightness) await this.deliver(brightness, () => this.sendBrightness(brightness.value));
        const frame = this.pendingFrame;
        this.pendingFrame = undefined;
        if (frame) await this.deliver(frame, () => this.sendFrame(frame.value));
      }
    } finally {
      // Cleared in the same tick as the empty-queue check, so a show() right after starts a new pump.
      this.pumpActive = false;
    }
  }

  private async deliver<T>(pending: Pending<T>, send: () => Promise<void>): Promise<void> {
    try {
      await send();
      this.counters.ok = true;
      pending.resolve();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (!(error instanceof LinkStoppedError)) {
        this.counters.ok = false;
        this.counters.failures++;
        this.counters.lastError = error.message;
        this.options.logger?.warn({ err: error.message }, 'panel update failed');
      }
      pending.reject(error);
    }
  }

  private async sendBrightness(percent: number): Promise<void> {
    this.lastSendAt = performance.now();
    await this.transport.send((seq) => brightnessPacket(seq, percent), `BRIGHTNESS ${percent}%`);
    this.counters.brightnessSent++;
  }

  private async sendFrame(frame: IndexedFrame): Promise<void> {
    this.lastSendAt = performance.now();
    const base = this.acknowledged;
    const rect = base ? changedRect(base, frame) : null;
    if (base && !rect) {
      this.counters.framesSkipped++;
      return;
    }
    const asRect =
      rect && rect.width * rect.height <= FULL_FRAME_SHARE * frame.width * frame.height;
    // Until the ACK arrives the glass may hold either frame, so no diff may be based on it.
    this.acknowledged = null;
    if (asRect) {
      await this.transport.send((seq) => rectPacket(seq, frame, rect), describeRect(rect));
      this.counters.rectsSent++;
    } else {
      await this.transport.send((seq) => fullFramePacket(seq, frame), 'FULL_FRAME');
      this.counters.fullFramesSent++;
    }
    this.acknowledged = frame;
    this.counters.framesSent++;
  }
}

function describeRect(rect: Rect): string {
  return `RECT ${rect.width}x${rect.height}@${rect.x},${rect.y}`;
}
