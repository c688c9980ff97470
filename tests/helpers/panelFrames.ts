import { createFrame, type IndexedFrame } from '../../device/render/frame';

/** Deterministic noise using every palette index, so packing mistakes cannot hide. */
export function patternFrame(width: number, height: number, seed = 1): IndexedFrame {
  const frame = createFrame(width, height);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < frame.pixels.length; i++) {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    frame.pixels[i] = state & 0x0f;
  }
  return frame;
}

/** A copy of `frame` with a filled box, like a clock digit changing. */
export function withBox(
  frame: IndexedFrame,
  x: number,
  y: number,
  width: number,
  height: number,
  colour: number,
): IndexedFrame {
  const out = { width: frame.width, height: frame.height, pixels: frame.pixels.slice() };
  for (let row = y; row < y + height; row++) {
    out.pixels.fill(colour, row * frame.width + x, row * frame.width + x + width);
  }
  return out;
}
