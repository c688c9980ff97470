/**
 * Canvas pixels to palette indices. With antialiasing off every pixel is exactly
 * a palette colour; anything else (e.g. an unexpected fallback glyph) is snapped
 * to hard pixels rather than to a dim shade, and counted so tests can insist on zero.
 */
import type { IndexedFrame, Rgb } from './frame';
import { createFrame, PALETTE } from './frame';

export interface QuantizeResult {
  frame: IndexedFrame;
  /** Pixels that were not exactly a palette colour. */
  inexactPixels: number;
}

const pack = (r: number, g: number, b: number): number => (r << 16) | (g << 8) | b;

const EXACT = new Map<number, number>(PALETTE.map(([r, g, b], i) => [pack(r, g, b), i]));

/** Text is only ever drawn in these; an odd pixel is a partly covered one of them. */
const INK = [1, 2, 3, 4, 5, 6, 7];

/**
 * Reads an odd pixel as "coverage x some ink colour": picks the ink it best matches
 * and lights it only when at least half covered, like a 1-bit rasteriser would.
 */
function snap(r: number, g: number, b: number): number {
  let best = 0;
  let bestError = Infinity;
  for (const index of INK) {
    const [cr, cg, cb] = PALETTE[index] as Rgb;
    const norm = cr * cr + cg * cg + cb * cb;
    const coverage = Math.min(1, Math.max(0, (r * cr + g * cg + b * cb) / norm));
    const error = (r - coverage * cr) ** 2 + (g - coverage * cg) ** 2 + (b - coverage * cb) ** 2;
    if (error < bestError) {
      bestError = error;
      best = coverage >= 0.5 ? index : 0;
    }
  }
  return best;
}

export function quantizeRgba(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
): QuantizeResult {
  const frame = createFrame(width, height);
  const out = frame.pixels;
  let inexactPixels = 0;
  for (let i = 0, p = 0; p < out.length; i += 4, p++) {
    const r = rgba[i] as number;
    const g = rgba[i + 1] as number;
    const b = rgba[i + 2] as number;
    if ((r | g | b) === 0) continue; // most of the board is dark
    const exact = EXACT.get(pack(r, g, b));
    if (exact !== undefined) {
      out[p] = exact;
    } else {
      out[p] = snap(r, g, b);
      inexactPixels++;
    }
  }
  return { frame, inexactPixels };
}
