/**
 * Frames as PNG, for the fleet console and for golden tests. Each LED becomes a
 * scale x scale block of its palette colour (no smoothing), written as RGB.
 */
import { createCanvas, loadImage } from 'canvas';
import type { IndexedFrame, Rgb } from './frame';
import { createFrame, PALETTE } from './frame';
import { quantizeRgba } from './quantize';

/** `palette` says what each index looks like: the LED palette unless the glass has its own. */
export function frameToPng(
  frame: IndexedFrame,
  scale = 1,
  palette: readonly Rgb[] = PALETTE,
): Buffer {
  if (!Number.isInteger(scale) || scale < 1)
    throw new RangeError(`scale must be a positive integer`);
  const width = frame.width * scale;
  const height = frame.height * scale;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d', { pixelFormat: 'RGB24' });
  const image = ctx.createImageData(width, height);
  const out = image.data;
  for (let y = 0; y < height; y++) {
    const source = Math.floor(y / scale) * frame.width;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = palette[frame.pixels[source + Math.floor(x / scale)] ?? 0] ?? [0, 0, 0];
      const o = (y * width + x) * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas.toBuffer('image/png');
}

/** Reads a PNG written by frameToPng (scale 1) back into a frame; null if not all palette colours. */
export async function pngToFrame(
  png: Buffer,
  palette: readonly Rgb[] = PALETTE,
): Promise<IndexedFrame | null> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  if (palette === PALETTE) {
    const { frame, inexactPixels } = quantizeRgba(data, image.width, image.height);
    return inexactPixels === 0 ? frame : null;
  }
  const index = new Map(palette.map(([r, g, b], i) => [(r << 16) | (g << 8) | b, i]));
  const frame = createFrame(image.width, image.height);
  for (let p = 0; p < frame.pixels.length; p++) {
    const found = index.get((data[p * 4]! << 16) | (data[p * 4 + 1]! << 8) | data[p * 4 + 2]!);
    if (found === undefined) return null;
    frame.pixels[p] = found;
  }
  return frame;
}
