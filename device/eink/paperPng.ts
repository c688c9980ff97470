/**
 * A picture of e-paper as a passenger sees it: warm off-white paper, ink that
 * is not quite black, magnified without smoothing.
 */
import { createCanvas } from 'canvas';
import { PAPER_TONE, type GlassPalette } from '../render/glassPalette';
import type { IndexedFrame, Rgb } from '../render/frame';

function paperTone([r, g, b]: Rgb): Rgb {
  // Luminance runs from ink to paper; red pigment keeps its hue, a little duller.
  const { white, black } = PAPER_TONE;
  if (r > g + 80) return [Math.round(r * 0.8), 40, 36];
  const t = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
  const mix = (i: 0 | 1 | 2): number => Math.round(black[i] + (white[i] - black[i]) * t);
  return [mix(0), mix(1), mix(2)];
}

export function renderPaperPng(
  frame: IndexedFrame,
  palette: GlassPalette,
  scale = 1,
): Promise<Buffer> {
  const tones = palette.rgb.map(paperTone);
  const width = frame.width * scale;
  const height = frame.height * scale;
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    const source = Math.floor(y / scale) * frame.width;
    for (let x = 0; x < width; x++) {
      const [r, g, b] =
        tones[frame.pixels[source + Math.floor(x / scale)] ?? 0] ?? PAPER_TONE.white;
      const at = (y * width + x) * 4;
      image.data[at] = r;
      image.data[at + 1] = g;
      image.data[at + 2] = b;
      image.data[at + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBuffer((err, png) => (err ? reject(err) : resolve(png)), 'image/png'),
  );
}
