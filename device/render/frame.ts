/**
 * A frame is what the glass shows: one palette index per LED, row-major.
 * LED signs light a handful of colours, so frames are indexed, which keeps
 * serial updates small (4 bits per LED on the wire) and comparisons exact.
 */
export interface IndexedFrame {
  width: number;
  height: number;
  /** Palette index per pixel, row-major, length width*height. */
  pixels: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** The fixed 16-entry palette shared by renderer, driver, simulator and PNG writer. */
export const PALETTE: readonly Rgb[] = [
  [0, 0, 0], // 0 off
  [255, 176, 0], // 1 amber (scheduled times, labels)
  [0, 230, 64], // 2 green (live predictions)
  [255, 40, 40], // 3 red (warnings, emergencies)
  [255, 255, 255], // 4 white (destinations)
  [0, 160, 255], // 5 blue
  [255, 230, 0], // 6 yellow (route numbers)
  [200, 200, 200], // 7 grey
  [128, 88, 0], // 8 dim amber
  [0, 115, 32], // 9 dim green
  [128, 20, 20], // 10 dim red
  [128, 128, 128], // 11 dim white
  [0, 80, 128], // 12 dim blue
  [128, 115, 0], // 13 dim yellow
  [64, 64, 64], // 14 dark grey
  [255, 0, 255], // 15 magenta (test patterns)
];

export const Colour = {
  off: 0,
  amber: 1,
  green: 2,
  red: 3,
  white: 4,
  blue: 5,
  yellow: 6,
  grey: 7,
} as const;

export function createFrame(width: number, height: number): IndexedFrame {
  return { width, height, pixels: new Uint8Array(width * height) };
}

export function framesEqual(a: IndexedFrame, b: IndexedFrame): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  return Buffer.from(a.pixels.buffer, a.pixels.byteOffset, a.pixels.byteLength).equals(
    Buffer.from(b.pixels.buffer, b.pixels.byteOffset, b.pixels.byteLength),
  );
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Smallest rectangle holding every pixel that differs; null when the frames match. */
export function changedRect(previous: IndexedFrame, next: IndexedFrame): Rect | null {
  if (previous.width !== next.width || previous.height !== next.height) {
    return { x: 0, y: 0, width: next.width, height: next.height };
  }
  const { width, height } = next;
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (previous.pixels[row + x] !== next.pixels[row + x]) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return null;
  return { x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1 };
}

export function cropFrame(frame: IndexedFrame, rect: Rect): IndexedFrame {
  const out = createFrame(rect.width, rect.height);
  for (let y = 0; y < rect.height; y++) {
    const from = (rect.y + y) * frame.width + rect.x;
    out.pixels.set(frame.pixels.subarray(from, from + rect.width), y * rect.width);
  }
  return out;
}
