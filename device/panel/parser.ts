/**
 * Streaming receiver for the panel protocol, used by both ends of the line.
 * It hunts for the sync bytes, so garbage, lost bytes and bad packets cost
 * at most the packet they hit; the stream recovers at the next sync.
 */
import { crc16 } from './crc16';
import {
  CRC_BYTES,
  HEADER_BYTES,
  INTER_BYTE_TIMEOUT_MS,
  MAX_PACKET,
  MAX_PAYLOAD,
  SYNC,
  type Packet,
} from './packets';

export type RejectReason = 'crc' | 'length' | 'timeout';

export type ParserEvent =
  | { kind: 'packet'; packet: Packet }
  /** type and seq are known when the header arrived (they may be corrupt themselves on a crc reject). */
  | { kind: 'rejected'; reason: RejectReason; type?: number; seq?: number }
  /** Bytes dropped while hunting for sync: line noise or the body of a rejected packet. */
  | { kind: 'skipped'; bytes: number };

export interface PacketParserOptions {
  maxPayload?: number;
  interByteTimeoutMs?: number;
}

export class PacketParser {
  private readonly maxPayload: number;
  private readonly interByteTimeoutMs: number;
  // Room for one whole packet plus one more chunk piece, so no allocation per chunk.
  private readonly buffer = new Uint8Array(MAX_PACKET * 2);
  private start = 0;
  private end = 0;
  private lastByteMs = 0;

  constructor(options: PacketParserOptions = {}) {
    this.maxPayload = Math.min(options.maxPayload ?? MAX_PAYLOAD, MAX_PAYLOAD);
    this.interByteTimeoutMs = options.interByteTimeoutMs ?? INTER_BYTE_TIMEOUT_MS;
  }

  /** True while part of a packet is buffered, i.e. expire() may have work to do. */
  get pending(): boolean {
    return this.end > this.start;
  }

  push(chunk: Uint8Array, nowMs: number): ParserEvent[] {
    const events = this.expire(nowMs);
    if (chunk.length > 0) this.lastByteMs = nowMs;
    let offset = 0;
    while (offset < chunk.length) {
      this.compact();
      const take = Math.min(chunk.length - offset, this.buffer.length - this.end);
      this.buffer.set(chunk.subarray(offset, offset + take), this.end);
      this.end += take;
      offset += take;
      this.scan(events);
    }
    return events;
  }

  /** Drops a partial packet whose bytes stopped arriving; call from a timer to notice silence. */
  expire(nowMs: number): ParserEvent[] {
    if (!this.pending || nowMs - this.lastByteMs <= this.interByteTimeoutMs) return [];
    const held = this.end - this.start;
    const synced = held >= 2 && this.at(0) === SYNC[0] && this.at(1) === SYNC[1];
    const event: ParserEvent = !synced
      ? { kind: 'skipped', bytes: held }
      : held >= HEADER_BYTES
        ? { kind: 'rejected', reason: 'timeout', type: this.at(2), seq: this.at(3) }
        : { kind: 'rejected', reason: 'timeout' };
    this.start = this.end = 0;
    return [event];
  }

  private scan(events: ParserEvent[]): void {
    for (;;) {
      this.hunt(events);
      const held = this.end - this.start;
      if (held < HEADER_BYTES) return;
      const type = this.at(2);
      const seq = this.at(3);
      const length = this.at(4) | (this.at(5) << 8);
      if (length > this.maxPayload) {
        events.push({ kind: 'rejected', reason: 'length', type, seq });
        this.start += SYNC.length;
        continue;
      }
      const total = HEADER_BYTES + length + CRC_BYTES;
      if (held < total) return;
      const bodyEnd = this.start + HEADER_BYTES + length;
      const expected = crc16(this.buffer.subarray(this.start + 2, bodyEnd));
      const received = this.at(HEADER_BYTES + length) | (this.at(HEADER_BYTES + length + 1) << 8);
      if (expected !== received) {
        // Resume right after the sync: the length may be the corrupted field.
        events.push({ kind: 'rejected', reason: 'crc', type, seq });
        this.start += SYNC.length;
        continue;
      }
      const payload = Buffer.from(this.buffer.subarray(this.start + HEADER_BYTES, bodyEnd));
      events.push({ kind: 'packet', packet: { type, seq, payload } });
      this.start += total;
    }
  }

  /** Advances `start` to the next sync pair, keeping a trailing first sync byte. */
  private hunt(events: ParserEvent[]): void {
    let i = this.start;
    while (i < this.end) {
      if (this.buffer[i] === SYNC[0]) {
        if (i + 1 >= this.end || this.buffer[i + 1] === SYNC[1]) break;
      }
      i++;
    }
    if (i > this.start) {
      events.push({ kind: 'skipped', bytes: i - this.start });
      this.start = i;
    }
  }

  private at(offset: number): number {
    return this.buffer[this.start + offset] ?? 0;
  }

  private compact(): void {
    if (this.start === 0) return;
    this.buffer.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
  }
}
