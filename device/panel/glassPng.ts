/**
 * Draws what the sign's glass shows: each LED a round dot on a dark board,
 * dimmed by the brightness setting. Used by the simulator so people can look
 * at a panel that is not there.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { createCanvas } from 'canvas';
import { PALETTE, type IndexedFrame, type Rgb } from '../render/frame';

export interface GlassOptions {
  /** Image pixels per LED; default 4. */
  scale?: number;
  /** 0-100 %; default 100. */
  brightness?: number;
}

const BOARD = 0x0b;
/** Unlit LEDs stay faintly visible, as they do on a real panel in daylight. */
const UNLIT = 0x1c;
const SUBSAMPLES = 4;

/**
 * Renders the picture; PNG encoding runs on libuv's thread pool, so a simulator
 * drawing the glass does not stall its own serial receiver.
 */
export function renderGlassPng(frame: IndexedFrame, options: GlassOptions = {}): Promise<Buffer> {
  const scale = Math.max(1, Math.round(options.scale ?? 4));
  const duty = Math.min(100, Math.max(0, options.brightness ?? 100)) / 100;
  // Brightness is a PWM duty cycle; the eye (and an sRGB picture) sees it through a gamma curve.
  const level = Math.pow(duty, 1 / 2.2);
  const canvas = createCanvas(frame.width * scale, frame.height * scale);
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  const colours = PALETTE.map((rgb, index) =>
    index === 0 ? [UNLIT, UNLIT, UNLIT] : dimmed(rgb, level),
  );
  const mask = dotMask(scale);
  // Writing pixels directly: thousands of canvas arcs took ~50 ms per 192x64 frame.
  for (let i = 0; i < frame.pixels.length; i++) {
    const rgb = colours[frame.pixels[i] ?? 0] ?? [UNLIT, UNLIT, UNLIT];
    const left = (i % frame.width) * scale;
    const top = Math.floor(i / frame.width) * scale;
    for (let dy = 0; dy < scale; dy++) {
      let at = ((top + dy) * canvas.width + left) * 4;
      for (let dx = 0; dx < scale; dx++, at += 4) {
        const cover = mask[dy * scale + dx] ?? 0;
        image.data[at] = BOARD + ((rgb[0] ?? 0) - BOARD) * cover;
        image.data[at + 1] = BOARD + ((rgb[1] ?? 0) - BOARD) * cover;
        image.data[at + 2] = BOARD + ((rgb[2] ?? 0) - BOARD) * cover;
        image.data[at + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBuffer((err, png) => (err ? reject(err) : resolve(png)), 'image/png'),
  );
}

/** How much of each image pixel a round LED covers (0-1); square at tiny scales. */
function dotMask(scale: number): Float32Array {
  const mask = new Float32Array(scale * scale);
  if (scale < 3) return mask.fill(1);
  const radius = scale * 0.4;
  const centre = scale / 2;
  for (let y = 0; y < scale; y++) {
    for (let x = 0; x < scale; x++) {
      let inside = 0;
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          const px = x + (sx + 0.5) / SUBSAMPLES - centre;
          const py = y + (sy + 0.5) / SUBSAMPLES - centre;
          if (px * px + py * py <= radius * radius) inside++;
        }
      }
      mask[y * scale + x] = inside / (SUBSAMPLES * SUBSAMPLES);
    }
  }
  return mask;
}

/** A dimmed LED never looks darker than an unlit one. */
function dimmed(rgb: Rgb, level: number): number[] {
  return rgb.map((value) => Math.max(UNLIT, Math.round(value * level)));
}

/** Writes next to the target and renames, so a viewer never reads half a PNG. */
export async function writeFileAtomic(path: string, data: Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
