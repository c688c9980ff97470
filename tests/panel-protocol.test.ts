import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFrame, cropFrame } from '../device/render/frame';
import { LineNoise } from '../device/panel/lineNoise';
import {
  brightnessPacket,
  crc16,
  decodeBrightness,
  decodeFullFrame,
  decodeInfo,
  decodeNak,
  decodeRect,
  encodePacket,
  fullFramePacket,
  infoPacket,
  MAX_PAYLOAD,
  nakPacket,
  packPixels,
  PacketParser,
  PacketType,
  rectPacket,
  unpackPixels,
  type Packet,
  type ParserEvent,
} from '../device/panel/protocol';
import { patternFrame } from './helpers/panelFrames';

const hex = (bytes: Uint8Array) =>
  Buffer.from(bytes)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');

function packets(events: ParserEvent[]): Packet[] {
  return events.flatMap((event) => (event.kind === 'packet' ? [event.packet] : []));
}

function rejections(events: ParserEvent[]) {
  return events.flatMap((event) => (event.kind === 'rejected' ? [event] : []));
}

function skipped(events: ParserEvent[]): number {
  return events.reduce((sum, event) => sum + (event.kind === 'skipped' ? event.bytes : 0), 0);
}

describe('CRC-16/CCITT-FALSE', () => {
  it('gives the catalogue check value for "123456789"', () => {
    expect(crc16(Buffer.from('123456789', 'ascii'))).toBe(0x29b1);
  });

  it('continues across pieces', () => {
    const whole = crc16(Buffer.from('123456789'));
    expect(crc16(Buffer.from('6789'), crc16(Buffer.from('12345')))).toBe(whole);
  });
});

describe('worked examples in docs/panel-protocol.md', () => {
  const doc = readFileSync(new URL('../docs/panel-protocol.md', import.meta.url), 'utf8');

  it('BRIGHTNESS 50 % with seq 1', () => {
    const bytes = brightnessPacket(1, 50);
    expect(hex(bytes)).toBe('A5 5A 04 01 01 00 32 9F CF');
    expect(doc).toContain(hex(bytes));
  });

  it('RECT of 3x2 LEDs at (10,3) with seq 2', () => {
    const frame = createFrame(192, 64);
    [1, 2, 3, 4, 5, 6].forEach((value, i) => {
      frame.pixels[(3 + Math.floor(i / 3)) * 192 + 10 + (i % 3)] = value;
    });
    const bytes = rectPacket(2, frame, { x: 10, y: 3, width: 3, height: 2 });
    expect(hex(bytes)).toBe('A5 5A 03 02 0B 00 0A 00 03 00 03 00 02 00 12 34 56 C2 F2');
    expect(doc).toContain(hex(bytes));
  });
});

describe('pixel packing', () => {
  it('puts the first LED in the high nibble and pads an odd count with zero', () => {
    expect(hex(packPixels(Uint8Array.from([1, 2, 3])))).toBe('12 30');
    expect(Array.from(unpackPixels(Buffer.from([0x12, 0x30]), 3))).toEqual([1, 2, 3]);
  });

  it('refuses palette indexes above 15', () => {
    expect(() => packPixels(Uint8Array.from([0, 16]))).toThrow(/palette index 16/);
  });
});

describe('builders and payload decoders', () => {
  it('round-trips a full 192x64 frame through the parser', () => {
    const frame = patternFrame(192, 64, 7);
    const bytes = fullFramePacket(9, frame);
    expect(bytes.length).toBe(6 + 4 + 6144 + 2);
    const [packet] = packets(new PacketParser().push(bytes, 0));
    expect(packet?.type).toBe(PacketType.fullFrame);
    expect(packet?.seq).toBe(9);
    const decoded = decodeFullFrame(packet!.payload);
    expect(decoded.ok && decoded.frame).toEqual(frame);
  });

  it('round-trips an odd-sized rectangle', () => {
    const frame = patternFrame(192, 64, 3);
    const rect = { x: 185, y: 60, width: 7, height: 3 };
    const [packet] = packets(new PacketParser().push(rectPacket(200, frame, rect), 0));
    const decoded = decodeRect(packet!.payload);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.rect).toEqual(rect);
    expect(Array.from(decoded.pixels)).toEqual(Array.from(cropFrame(frame, rect).pixels));
  });

  it('rejects a non-zero pad nibble, bad lengths and brightness above 100', () => {
    const payload = Buffer.from([0, 0, 0, 0, 1, 0, 1, 0, 0x31]); // 1x1 rect at 0,0 with pad 1
    expect(decodeRect(payload)).toEqual({ ok: false, reason: 'value' });
    expect(decodeRect(payload.subarray(0, 8))).toEqual({ ok: false, reason: 'length' });
    expect(decodeFullFrame(Buffer.from([2, 0, 2, 0, 0x11]))).toEqual({
      ok: false,
      reason: 'length',
    });
    expect(decodeBrightness(Buffer.from([101]))).toEqual({ ok: false, reason: 'value' });
    expect(decodeBrightness(Buffer.from([50, 0]))).toEqual({ ok: false, reason: 'length' });
    expect(() => brightnessPacket(1, 101)).toThrow(RangeError);
  });

  it('encodes NAK and INFO replies', () => {
    const [nak, info] = packets(
      new PacketParser().push(
        Buffer.concat([
          nakPacket(4, 'bounds'),
          infoPacket(5, {
            width: 192,
            height: 64,
            protocolVersion: 1,
            maxPayload: MAX_PAYLOAD,
            firmware: 'fw 2.1',
          }),
        ]),
        0,
      ),
    );
    expect(nak?.seq).toBe(4);
    expect(decodeNak(nak!.payload)).toBe('bounds');
    expect(decodeInfo(info!.payload)).toEqual({
      ok: true,
      info: {
        width: 192,
        height: 64,
        protocolVersion: 1,
        maxPayload: MAX_PAYLOAD,
        firmware: 'fw 2.1',
      },
    });
  });

  it('refuses to encode a payload above the maximum', () => {
    expect(() => encodePacket(PacketType.rect, 1, new Uint8Array(MAX_PAYLOAD + 1))).toThrow(
      RangeError,
    );
  });
});

describe('PacketParser', () => {
  const first = brightnessPacket(1, 10);
  const second = brightnessPacket(2, 20);

  it('resynchronises after garbage, including stray sync bytes', () => {
    const garbage = Buffer.from([0x00, 0xa5, 0x13, 0xa5, 0xa5, 0xff]);
    const fakeHeader = Buffer.from([0xa5, 0x5a, 0x04, 0x07, 0x01, 0x00, 0x63, 0x00, 0x00]);
    const events = new PacketParser().push(
      Buffer.concat([garbage, first, fakeHeader, second, Buffer.from([0x42])]),
      0,
    );
    expect(packets(events).map((p) => p.seq)).toEqual([1, 2]);
    expect(rejections(events)).toEqual([{ kind: 'rejected', reason: 'crc', type: 4, seq: 7 }]);
    // 6 garbage bytes, the 7 bytes of the fake after its sync, and one trailing byte.
    expect(skipped(events)).toBe(6 + 7 + 1);
  });

  it('assembles packets fed one byte at a time', () => {
    const frame = patternFrame(31, 9, 5);
    const stream = Buffer.concat([fullFramePacket(3, frame), first]);
    const parser = new PacketParser();
    const events: ParserEvent[] = [];
    stream.forEach((byte, i) => events.push(...parser.push(Buffer.from([byte]), i * 0.01)));
    const got = packets(events);
    expect(got.map((p) => p.seq)).toEqual([3, 1]);
    const decoded = decodeFullFrame(got[0]!.payload);
    expect(decoded.ok && decoded.frame).toEqual(frame);
    expect(parser.pending).toBe(false);
  });

  it('rejects a flipped bit as a CRC error and keeps the next packet', () => {
    const damaged = Buffer.from(first);
    damaged[6] = (damaged[6] ?? 0) ^ 0x08;
    const events = new PacketParser().push(Buffer.concat([damaged, second]), 0);
    expect(rejections(events)).toEqual([{ kind: 'rejected', reason: 'crc', type: 4, seq: 1 }]);
    expect(packets(events).map((p) => p.seq)).toEqual([2]);
  });

  it('drops a packet whose bytes pause longer than the inter-byte timeout', () => {
    const parser = new PacketParser({ interByteTimeoutMs: 50 });
    expect(parser.push(first.subarray(0, 7), 1000)).toEqual([]);
    expect(parser.expire(1050)).toEqual([]); // exactly the timeout is still in time
    const events = parser.push(Buffer.concat([first.subarray(7), second]), 1051);
    expect(rejections(events)).toEqual([{ kind: 'rejected', reason: 'timeout', type: 4, seq: 1 }]);
    // The late CRC bytes are noise now; the following packet is fine.
    expect(packets(events).map((p) => p.seq)).toEqual([2]);
  });

  it('expire() ends a truncated packet when nothing else arrives', () => {
    const parser = new PacketParser();
    parser.push(second.subarray(0, 4), 0);
    expect(parser.pending).toBe(true);
    expect(parser.expire(100)).toEqual([{ kind: 'rejected', reason: 'timeout' }]);
    expect(parser.pending).toBe(false);
  });

  it('accepts a packet whose pieces arrive within the timeout', () => {
    const parser = new PacketParser();
    parser.push(first.subarray(0, 5), 0);
    expect(packets(parser.push(first.subarray(5), 40)).map((p) => p.seq)).toEqual([1]);
  });

  it('rejects an oversized length at once, without waiting for the payload', () => {
    const header = Buffer.from([0xa5, 0x5a, 0x03, 0x09, 0, 0]);
    header.writeUInt16LE(MAX_PAYLOAD + 1, 4);
    const events = new PacketParser().push(Buffer.concat([header, first]), 0);
    expect(rejections(events)).toEqual([{ kind: 'rejected', reason: 'length', type: 3, seq: 9 }]);
    expect(packets(events).map((p) => p.seq)).toEqual([1]);
  });

  it('handles chunks larger than its buffer', () => {
    const frame = patternFrame(192, 64, 11);
    const stream = Buffer.concat(Array.from({ length: 5 }, (_, i) => fullFramePacket(i, frame)));
    expect(packets(new PacketParser().push(stream, 0)).map((p) => p.seq)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('LineNoise', () => {
  it('damages exactly the next n packets so that the CRC catches them', () => {
    const noise = new LineNoise();
    noise.corruptNext(2);
    const stream = Buffer.concat([1, 2, 3].map((seq) => brightnessPacket(seq, 30)));
    const heard = noise.apply(stream);
    expect(heard.equals(stream)).toBe(false);
    const events = new PacketParser().push(heard, 0);
    expect(rejections(events).map((r) => [r.reason, r.seq])).toEqual([
      ['crc', 1],
      ['crc', 2],
    ]);
    expect(packets(events).map((p) => p.seq)).toEqual([3]);
    expect(noise.apply(stream)).toBe(stream);
  });
});
