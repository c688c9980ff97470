/**
 * Packet layout, constants, builders and payload decoders of the LED matrix
 * serial protocol (docs/panel-protocol.md). Pure: no I/O, no clocks.
 */
import type { IndexedFrame, Rect } from '../render/frame';
import { crc16 } from './crc16';

export const SYNC = [0xa5, 0x5a] as const;
/** sync(2) + type(1) + seq(1) + length(2). */
export const HEADER_BYTES = 6;
export const CRC_BYTES = 2;
/** Largest payload a receiver must accept: a RECT header plus 16 384 LEDs (a whole 256x64 panel). */
export const MAX_PAYLOAD = 8200;
export const MAX_PACKET = HEADER_BYTES + MAX_PAYLOAD + CRC_BYTES;
export const PROTOCOL_VERSION = 1;
/** A packet whose bytes pause longer than this is dropped by the receiver. */
export const INTER_BYTE_TIMEOUT_MS = 50;
/**
 * A panel that hears no valid packet for this long blanks its glass: a sign
 * that crashed or hangs must not leave a frozen, plausible-looking board.
 */
export const WATCHDOG_TIMEOUT_MS = 10_000;
/** A host with nothing to send sends HELLO this often, well inside the watchdog. */
export const KEEPALIVE_INTERVAL_MS = 2_000;

export const PacketType = {
  hello: 0x01,
  fullFrame: 0x02,
  rect: 0x03,
  brightness: 0x04,
  ack: 0x80,
  nak: 0x81,
  info: 0x82,
} as const;
export type PacketTypeName = keyof typeof PacketType;

export const NakReason = {
  crc: 0x01,
  length: 0x02,
  bounds: 0x03,
  unknownType: 0x04,
  value: 0x05,
  busy: 0x06,
  timeout: 0x07,
  /** A RECT after the watchdog blanked the glass: the host must send a FULL_FRAME. */
  stale: 0x08,
} as const;
export type NakReasonName = keyof typeof NakReason;

export const FULL_FRAME_HEADER_BYTES = 4;
export const RECT_HEADER_BYTES = 8;
export const INFO_FIXED_BYTES = 7;
export const MAX_FIRMWARE_BYTES = 32;

export interface Packet {
  type: number;
  seq: number;
  payload: Buffer;
}

export interface PanelInfo {
  width: number;
  height: number;
  protocolVersion: number;
  maxPayload: number;
  firmware: string;
}

export function packetTypeName(type: number): PacketTypeName | undefined {
  return (Object.keys(PacketType) as PacketTypeName[]).find((name) => PacketType[name] === type);
}

export function nakReasonName(code: number): NakReasonName | undefined {
  return (Object.keys(NakReason) as NakReasonName[]).find((name) => NakReason[name] === code);
}

/** Wraps a payload in sync, header and CRC. */
export function encodePacket(
  type: number,
  seq: number,
  payload: Uint8Array = new Uint8Array(),
): Buffer {
  if (payload.length > MAX_PAYLOAD) {
    throw new RangeError(
      `payload of ${payload.length} bytes exceeds the ${MAX_PAYLOAD}-byte maximum`,
    );
  }
  const out = Buffer.alloc(HEADER_BYTES + payload.length + CRC_BYTES);
  out[0] = SYNC[0];
  out[1] = SYNC[1];
  out[2] = type & 0xff;
  out[3] = seq & 0xff;
  out.writeUInt16LE(payload.length, 4);
  out.set(payload, HEADER_BYTES);
  const crc = crc16(out.subarray(2, HEADER_BYTES + payload.length));
  out.writeUInt16LE(crc, HEADER_BYTES + payload.length);
  return out;
}

export function packedBytes(ledCount: number): number {
  return Math.ceil(ledCount / 2);
}

/** Two LEDs per byte, first LED in the high nibble; an odd count leaves a zero low nibble. */
export function packPixels(pixels: Uint8Array): Buffer {
  const out = Buffer.alloc(packedBytes(pixels.length));
  for (let i = 0; i < pixels.length; i++) {
    const value = pixels[i] ?? 0;
    if (value > 15) throw new RangeError(`pixel ${i} has palette index ${value}; 0-15 allowed`);
    out[i >> 1] = (out[i >> 1] ?? 0) | (i & 1 ? value : value << 4);
  }
  return out;
}

export function unpackPixels(packed: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const byte = packed[i >> 1] ?? 0;
    out[i] = i & 1 ? byte & 0x0f : byte >> 4;
  }
  return out;
}

export function helloPacket(seq: number): Buffer {
  return encodePacket(PacketType.hello, seq);
}

export function fullFramePacket(seq: number, frame: IndexedFrame): Buffer {
  const payload = Buffer.alloc(FULL_FRAME_HEADER_BYTES);
  payload.writeUInt16LE(frame.width, 0);
  payload.writeUInt16LE(frame.height, 2);
  return encodePacket(
    PacketType.fullFrame,
    seq,
    Buffer.concat([payload, packPixels(frame.pixels)]),
  );
}

/** The pixels of `rect` taken from the whole `frame`. */
export function rectPacket(seq: number, frame: IndexedFrame, rect: Rect): Buffer {
  const pixels = new Uint8Array(rect.width * rect.height);
  for (let y = 0; y < rect.height; y++) {
    const from = (rect.y + y) * frame.width + rect.x;
    pixels.set(frame.pixels.subarray(from, from + rect.width), y * rect.width);
  }
  const header = Buffer.alloc(RECT_HEADER_BYTES);
  header.writeUInt16LE(rect.x, 0);
  header.writeUInt16LE(rect.y, 2);
  header.writeUInt16LE(rect.width, 4);
  header.writeUInt16LE(rect.height, 6);
  return encodePacket(PacketType.rect, seq, Buffer.concat([header, packPixels(pixels)]));
}

export function brightnessPacket(seq: number, percent: number): Buffer {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new RangeError(`brightness ${percent} is not a whole percent 0-100`);
  }
  return encodePacket(PacketType.brightness, seq, Buffer.from([percent]));
}

export function ackPacket(seq: number): Buffer {
  return encodePacket(PacketType.ack, seq);
}

export function nakPacket(seq: number, reason: NakReasonName): Buffer {
  return encodePacket(PacketType.nak, seq, Buffer.from([NakReason[reason]]));
}

export function infoPacket(seq: number, info: PanelInfo): Buffer {
  const firmware = Buffer.from(info.firmware, 'ascii').subarray(0, MAX_FIRMWARE_BYTES);
  const fixed = Buffer.alloc(INFO_FIXED_BYTES);
  fixed.writeUInt16LE(info.width, 0);
  fixed.writeUInt16LE(info.height, 2);
  fixed.writeUInt8(info.protocolVersion, 4);
  fixed.writeUInt16LE(info.maxPayload, 5);
  return encodePacket(PacketType.info, seq, Buffer.concat([fixed, firmware]));
}

export type Decoded<T> = ({ ok: true } & T) | { ok: false; reason: NakReasonName };

/** Checks that the packed pixels have the exact length and a zero pad nibble. */
function decodePixels(packed: Buffer, count: number): Decoded<{ pixels: Uint8Array }> {
  if (packed.length !== packedBytes(count)) return { ok: false, reason: 'length' };
  if (count % 2 === 1 && ((packed[packed.length - 1] ?? 0) & 0x0f) !== 0) {
    return { ok: false, reason: 'value' };
  }
  return { ok: true, pixels: unpackPixels(packed, count) };
}

export function decodeFullFrame(payload: Buffer): Decoded<{ frame: IndexedFrame }> {
  if (payload.length < FULL_FRAME_HEADER_BYTES) return { ok: false, reason: 'length' };
  const width = payload.readUInt16LE(0);
  const height = payload.readUInt16LE(2);
  const decoded = decodePixels(payload.subarray(FULL_FRAME_HEADER_BYTES), width * height);
  if (!decoded.ok) return decoded;
  return { ok: true, frame: { width, height, pixels: decoded.pixels } };
}

export function decodeRect(payload: Buffer): Decoded<{ rect: Rect; pixels: Uint8Array }> {
  if (payload.length < RECT_HEADER_BYTES) return { ok: false, reason: 'length' };
  const rect: Rect = {
    x: payload.readUInt16LE(0),
    y: payload.readUInt16LE(2),
    width: payload.readUInt16LE(4),
    height: payload.readUInt16LE(6),
  };
  const decoded = decodePixels(payload.subarray(RECT_HEADER_BYTES), rect.width * rect.height);
  if (!decoded.ok) return decoded;
  return { ok: true, rect, pixels: decoded.pixels };
}

export function decodeBrightness(payload: Buffer): Decoded<{ percent: number }> {
  if (payload.length !== 1) return { ok: false, reason: 'length' };
  const percent = payload[0] ?? 0;
  if (percent > 100) return { ok: false, reason: 'value' };
  return { ok: true, percent };
}

export function decodeNak(payload: Buffer): NakReasonName | 'unknown' {
  return nakReasonName(payload[0] ?? 0) ?? 'unknown';
}

export function decodeInfo(payload: Buffer): Decoded<{ info: PanelInfo }> {
  if (payload.length < INFO_FIXED_BYTES || payload.length > INFO_FIXED_BYTES + MAX_FIRMWARE_BYTES) {
    return { ok: false, reason: 'length' };
  }
  return {
    ok: true,
    info: {
      width: payload.readUInt16LE(0),
      height: payload.readUInt16LE(2),
      protocolVersion: payload.readUInt8(4),
      maxPayload: payload.readUInt16LE(5),
      firmware: payload.subarray(INFO_FIXED_BYTES).toString('ascii'),
    },
  };
}
