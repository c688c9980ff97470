/**
 * Fault injection for the simulator: flips one bit in the body of each of the
 * next n packets as their bytes arrive, like noise on a long cable would. The
 * damage happens before parsing, so the real CRC check has to catch it.
 */
import { HEADER_BYTES, MAX_PAYLOAD, SYNC } from './packets';

type Phase = 'hunt' | 'sync' | 'header' | 'body';

export class LineNoise {
  private remainingPackets = 0;
  private flips = 0;
  private phase: Phase = 'hunt';
  private header: number[] = [];
  /** Position in the current packet after its header (payload + CRC), and which byte to damage. */
  private bodyIndex = 0;
  private bodyLength = 0;
  private target = 0;

  corruptNext(packets: number): void {
    this.remainingPackets += packets;
  }

  get armed(): boolean {
    return this.remainingPackets > 0 || this.phase !== 'hunt';
  }

  /** Returns the chunk as the receiver hears it; untouched when nothing is armed. */
  apply(chunk: Buffer): Buffer {
    if (!this.armed) return chunk;
    const out = Buffer.from(chunk);
    for (let i = 0; i < out.length; i++) {
      if (!this.armed) break;
      out[i] = this.step(out[i] ?? 0);
    }
    return out;
  }

  private step(byte: number): number {
    switch (this.phase) {
      case 'hunt':
        if (byte === SYNC[0]) this.phase = 'sync';
        return byte;
      case 'sync':
        if (byte === SYNC[1]) {
          this.phase = 'header';
          this.header = [];
        } else if (byte !== SYNC[0]) {
          this.phase = 'hunt';
        }
        return byte;
      case 'header':
        this.header.push(byte);
        if (this.header.length === HEADER_BYTES - SYNC.length) {
          const length = (this.header[2] ?? 0) | ((this.header[3] ?? 0) << 8);
          if (length > MAX_PAYLOAD) {
            this.phase = 'hunt'; // not a packet the receiver would take either
            return byte;
          }
          this.bodyIndex = 0;
          this.bodyLength = length + 2; // payload + CRC
          // Middle of the payload, or the CRC's first byte when there is no payload.
          this.target = length > 0 ? Math.floor(length / 2) : 0;
          this.phase = 'body';
        }
        return byte;
      case 'body': {
        let value = byte;
        if (this.bodyIndex === this.target && this.remainingPackets > 0) {
          value = byte ^ (1 << (this.flips % 8));
          this.flips++;
          this.remainingPackets--;
        }
        this.bodyIndex++;
        if (this.bodyIndex === this.bodyLength) this.phase = 'hunt';
        return value;
      }
    }
  }
}
