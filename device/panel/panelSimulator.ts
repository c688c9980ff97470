/**
 * A stand-in for the LED matrix controller that holds the host to the letter
 * of the protocol: it parses with the same parser, checks every field, NAKs
 * anything doubtful with the reason and keeps count, so tests and benches see
 * what real hardware would refuse.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { createFrame, type IndexedFrame, type Rect } from '../render/frame';
import { GlassSnapshots } from './glassSnapshots';
import { LineNoise } from './lineNoise';
import {
  ackPacket,
  decodeBrightness,
  decodeFullFrame,
  decodeRect,
  infoPacket,
  INTER_BYTE_TIMEOUT_MS,
  MAX_PAYLOAD,
  nakPacket,
  NakReason,
  PacketParser,
  PacketType,
  PROTOCOL_VERSION,
  WATCHDOG_TIMEOUT_MS,
  type NakReasonName,
  type Packet,
  type PanelInfo,
  type ParserEvent,
} from './protocol';
import type { SerialLink } from './serialLink';

export interface PanelSimulatorOptions {
  link: SerialLink;
  width: number;
  height: number;
  /** When set, a picture of the glass is kept here after every update. */
  pngPath?: string;
  /** When set, the glass is also kept here at true size (one pixel per LED, palette colours). */
  truePngPath?: string;
  /** Image pixels per LED in the PNG; default 4. */
  scale?: number;
  /** Least time between two PNG writes; default 200 ms. The latest state is always written. */
  pngIntervalMs?: number;
  firmware?: string;
  logger?: Logger;
  /** Silence after which the glass is blanked; default WATCHDOG_TIMEOUT_MS, 0 turns it off. */
  watchdogMs?: number;
}

export type PanelUpdate =
  | { kind: 'fullFrame' }
  | { kind: 'rect'; rect: Rect }
  | { kind: 'brightness'; percent: number }
  /** The watchdog blanked the glass: no valid packet for watchdogMs. */
  | { kind: 'watchdog' };

export interface PanelSimulatorStats {
  accepted: { hello: number; fullFrame: number; rect: number; brightness: number };
  rejected: Record<NakReasonName, number>;
  /** Bytes thrown away while hunting for sync (noise, bodies of rejected packets). */
  skippedBytes: number;
  bytesReceived: number;
  acksSent: number;
  naksSent: number;
  pngWrites: number;
  /** Times the watchdog blanked the glass. */
  watchdogBlanks: number;
}

export interface PanelSimulatorEvents {
  update: [update: PanelUpdate];
}

export class PanelSimulator extends EventEmitter<PanelSimulatorEvents> {
  private readonly parser = new PacketParser();
  private readonly noise = new LineNoise();
  private framebuffer: IndexedFrame;
  private brightnessPercent = 100;
  private readonly counters: Omit<PanelSimulatorStats, 'pngWrites'>;
  private watchdogTimer: NodeJS.Timeout | undefined;
  /** Set by the watchdog: the glass is dark until a FULL_FRAME repaints it. */
  private blanked = false;
  private running = false;
  private attached = false;
  private expiryTimer: NodeJS.Timeout | undefined;
  private replies: Promise<void> = Promise.resolve();
  private readonly glass: GlassSnapshots | undefined;

  constructor(private readonly options: PanelSimulatorOptions) {
    super();
    this.framebuffer = createFrame(options.width, options.height);
    const rejected = Object.fromEntries(Object.keys(NakReason).map((name) => [name, 0]));
    this.counters = {
      accepted: { hello: 0, fullFrame: 0, rect: 0, brightness: 0 },
      rejected: rejected as Record<NakReasonName, number>,
      skippedBytes: 0,
      bytesReceived: 0,
      acksSent: 0,
      naksSent: 0,
      watchdogBlanks: 0,
    };
    if (options.pngPath) {
      this.glass = new GlassSnapshots({
        path: options.pngPath,
        ...(options.truePngPath ? { truePath: options.truePngPath } : {}),
        current: () => ({ frame: this.framebuffer, brightness: this.brightnessPercent }),
        scale: options.scale ?? 4,
        intervalMs: options.pngIntervalMs ?? 200,
        ...(options.logger ? { logger: options.logger } : {}),
      });
    }
  }

  async start(): Promise<void> {
    if (this.running) return;
    const { link } = this.options;
    await this.glass?.start();
    if (!this.attached) {
      link.onData((chunk) => this.receive(chunk));
      this.attached = true;
    }
    await link.open();
    this.running = true;
    this.feedWatchdog();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.watchdogTimer);
    await this.replies;
    await this.glass?.stop();
    await this.options.link.close();
  }

  frame(): IndexedFrame {
    const { width, height, pixels } = this.framebuffer;
    return { width, height, pixels: pixels.slice() };
  }

  brightness(): number {
    return this.brightnessPercent;
  }

  stats(): PanelSimulatorStats {
    return {
      ...this.counters,
      pngWrites: this.glass?.writes ?? 0,
      accepted: { ...this.counters.accepted },
      rejected: { ...this.counters.rejected },
    };
  }

  info(): PanelInfo {
    return {
      width: this.options.width,
      height: this.options.height,
      protocolVersion: PROTOCOL_VERSION,
      maxPayload: MAX_PAYLOAD,
      firmware: this.options.firmware ?? 'stopsign-sim 1',
    };
  }

  /** Line noise: one bit flips in each of the next `packets` packets before they are parsed. */
  corruptNextPackets(packets: number): void {
    this.noise.corruptNext(packets);
  }

  /** Resolves with the first framebuffer (now or after an update) that satisfies `predicate`. */
  waitFor(predicate: (frame: IndexedFrame) => boolean, timeoutMs: number): Promise<IndexedFrame> {
    const now = this.frame();
    if (predicate(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const onUpdate = () => {
        const frame = this.frame();
        if (!predicate(frame)) return;
        clearTimeout(timer);
        this.off('update', onUpdate);
        resolve(frame);
      };
      const timer = setTimeout(() => {
        this.off('update', onUpdate);
        reject(new Error(`simulated panel did not show the expected frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on('update', onUpdate);
    });
  }

  private receive(chunk: Buffer): void {
    if (!this.running) return;
    this.counters.bytesReceived += chunk.length;
    this.handle(this.parser.push(this.noise.apply(chunk), performance.now()));
    // Silence after a partial packet must still end it, even if no further byte ever comes.
    clearTimeout(this.expiryTimer);
    if (this.parser.pending) {
      this.expiryTimer = setTimeout(
        () => this.handle(this.parser.expire(performance.now())),
        INTER_BYTE_TIMEOUT_MS + 5,
      );
    }
  }

  private handle(events: ParserEvent[]): void {
    for (const event of events) {
      if (event.kind === 'skipped') {
        this.counters.skippedBytes += event.bytes;
      } else if (event.kind === 'rejected') {
        this.reject(event.reason, event.seq, event.type);
      } else {
        this.apply(event.packet);
      }
    }
  }

  /** Any valid packet from the host proves it is alive; silence blanks the glass. */
  private feedWatchdog(): void {
    const ms = this.options.watchdogMs ?? WATCHDOG_TIMEOUT_MS;
    clearTimeout(this.watchdogTimer);
    if (ms <= 0 || !this.running) return;
    this.watchdogTimer = setTimeout(() => this.watchdogExpired(), ms);
  }

  private watchdogExpired(): void {
    if (!this.running || this.blanked) return;
    this.blanked = true;
    this.framebuffer = createFrame(this.options.width, this.options.height);
    this.counters.watchdogBlanks++;
    this.options.logger?.warn('panel watchdog: no packet from the host, glass blanked');
    this.emit('update', { kind: 'watchdog' });
    this.glass?.changed();
  }

  private apply(packet: Packet): void {
    const { width, height } = this.options;
    this.feedWatchdog();
    switch (packet.type) {
      case PacketType.hello:
        if (packet.payload.length !== 0) return this.reject('length', packet.seq, packet.type);
        this.counters.accepted.hello++;
        return this.reply(infoPacket(packet.seq, this.info()), true);
      case PacketType.fullFrame: {
        const decoded = decodeFullFrame(packet.payload);
        if (!decoded.ok) return this.reject(decoded.reason, packet.seq, packet.type);
        if (decoded.frame.width !== width || decoded.frame.height !== height) {
          return this.reject('bounds', packet.seq, packet.type);
        }
        this.framebuffer = decoded.frame;
        this.blanked = false;
        this.counters.accepted.fullFrame++;
        return this.accepted(packet.seq, { kind: 'fullFrame' });
      }
      case PacketType.rect: {
        const decoded = decodeRect(packet.payload);
        if (!decoded.ok) return this.reject(decoded.reason, packet.seq, packet.type);
        const { rect, pixels } = decoded;
        const inside =
          rect.width > 0 &&
          rect.height > 0 &&
          rect.x + rect.width <= width &&
          rect.y + rect.height <= height;
        if (!inside) return this.reject('bounds', packet.seq, packet.type);
        // A RECT changes part of a picture the glass no longer shows.
        if (this.blanked) return this.reject('stale', packet.seq, packet.type);
        for (let y = 0; y < rect.height; y++) {
          const row = pixels.subarray(y * rect.width, (y + 1) * rect.width);
          this.framebuffer.pixels.set(row, (rect.y + y) * width + rect.x);
        }
        this.counters.accepted.rect++;
        return this.accepted(packet.seq, { kind: 'rect', rect });
      }
      case PacketType.brightness: {
        const decoded = decodeBrightness(packet.payload);
        if (!decoded.ok) return this.reject(decoded.reason, packet.seq, packet.type);
        this.brightnessPercent = decoded.percent;
        this.counters.accepted.brightness++;
        return this.accepted(packet.seq, { kind: 'brightness', percent: decoded.percent });
      }
      default:
        return this.reject('unknownType', packet.seq, packet.type);
    }
  }

  private accepted(seq: number, update: PanelUpdate): void {
    this.options.logger?.debug({ seq, ...update }, 'panel packet accepted');
    this.reply(ackPacket(seq), true);
    this.emit('update', update);
    this.glass?.changed();
  }

  /** Counts the rejection and NAKs it when the header (and so the seq) was received. */
  private reject(reason: NakReasonName, seq?: number, type?: number): void {
    this.counters.rejected[reason]++;
    this.options.logger?.info({ reason, seq, type }, 'panel packet rejected');
    if (seq !== undefined) this.reply(nakPacket(seq, reason), false);
  }

  private reply(bytes: Buffer, ack: boolean): void {
    if (ack) this.counters.acksSent++;
    else this.counters.naksSent++;
    // Chained so replies leave in the order their packets arrived.
    this.replies = this.replies
      .then(() => this.options.link.write(bytes))
      .catch((err: unknown) =>
        this.options.logger?.warn({ err: String(err) }, 'simulated panel could not reply'),
      );
  }
}
