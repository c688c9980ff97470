/**
 * Measures, fits and draws one line of text into a rectangle of the canvas,
 * switching face per script run.
 *
 * Text is first drawn white into a mask canvas, then every mask pixel at least
 * half covered lights the target pixel in the palette colour: hard LED pixels
 * whatever the face does, and nothing outside the rectangle is ever touched, so
 * even a measurement slip cannot light a pixel in a neighbouring column.
 */
import type { CanvasRenderingContext2D } from 'canvas';
import type { FaceSpec, FontSet } from './fonts';
import { faceCss } from './fonts';
import type { Rect, Rgb } from './frame';
import { PALETTE } from './frame';
import type { TextRun } from './textRuns';
import { graphemes, splitRuns } from './textRuns';

export type Align = 'left' | 'right' | 'center';

interface RunMetrics {
  advance: number;
  /** Ink left of the pen position (positive = overhangs to the left). */
  inkLeft: number;
  /** Ink right of the pen position. */
  inkRight: number;
}

interface LineMetrics {
  runs: { run: TextRun; face: FaceSpec; metrics: RunMetrics }[];
  /** Width of the lit pixels, from the first run's ink to the last run's ink. */
  inkWidth: number;
  inkLeft: number;
}

const MEASURE_CACHE_LIMIT = 4096;
const OFF: Rgb = [0, 0, 0];
/** Mask value (0-255) from which a pixel counts as lit: half coverage. */
const LIT_FROM = 128;

export class TextPainter {
  private currentFont = '';
  private readonly measured = new Map<string, RunMetrics>();

  /** `target` gets the coloured pixels; `mask` must be a canvas of the same size. */
  constructor(
    private readonly target: CanvasRenderingContext2D,
    private readonly mask: CanvasRenderingContext2D,
  ) {
    mask.textDrawingMode = 'glyph'; // glyphs keep the CJK face's bitmap strikes
  }

  private useFace(face: FaceSpec): void {
    const css = faceCss(face);
    // Setting ctx.font re-parses the CSS string; skip it when nothing changes.
    if (css !== this.currentFont) {
      this.mask.font = css;
      this.currentFont = css;
    }
  }

  private measureRun(text: string, face: FaceSpec): RunMetrics {
    const key = `${faceCss(face)}\u0000${text}`;
    const cached = this.measured.get(key);
    if (cached) return cached;
    this.useFace(face);
    const m = this.mask.measureText(text);
    const metrics = {
      advance: m.width,
      inkLeft: Math.max(0, Math.ceil(m.actualBoundingBoxLeft)),
      inkRight: m.actualBoundingBoxRight,
    };
    if (this.measured.size >= MEASURE_CACHE_LIMIT) this.measured.clear();
    this.measured.set(key, metrics);
    return metrics;
  }

  private measureLine(text: string, fonts: FontSet): LineMetrics {
    let pen = 0;
    let inkRight = 0;
    let inkLeft = 0;
    const runs = splitRuns(text).map((run, i) => {
      const face = fonts[run.script];
      const metrics = this.measureRun(run.text, face);
      if (i === 0) inkLeft = metrics.inkLeft;
      inkRight = Math.max(inkRight, Math.round(pen) + metrics.inkRight);
      pen += metrics.advance;
      return { run, face, metrics };
    });
    return { runs, inkWidth: Math.ceil(inkLeft + inkRight), inkLeft };
  }

  /** Pixels the text lights horizontally, overhangs included. */
  width(text: string, fonts: FontSet): number {
    return this.measureLine(text, fonts).inkWidth;
  }

  fits(text: string, maxWidth: number, fonts: FontSet): boolean {
    return this.width(text, fonts) <= maxWidth;
  }

  /** The text if it fits, else its longest fitting prefix followed by `suffix`. */
  truncate(text: string, maxWidth: number, fonts: FontSet, suffix = ''): string {
    return this.fits(text, maxWidth, fonts)
      ? text
      : this.cutWithSuffix(text, maxWidth, fonts, suffix);
  }

  /**
   * Longest prefix (whole characters, trailing spaces dropped) that fits together with
   * `suffix`, which is always kept. Binary search: width grows with length.
   */
  cutWithSuffix(text: string, maxWidth: number, fonts: FontSet, suffix: string): string {
    const chars = graphemes(text);
    const candidate = (n: number): string => chars.slice(0, n).join('').trimEnd() + suffix;
    let lo = 0;
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.fits(candidate(mid), maxWidth, fonts)) lo = mid;
      else hi = mid - 1;
    }
    const best = candidate(lo);
    return this.fits(best, maxWidth, fonts) ? best : '';
  }

  /** Draws one line inside `rect`, vertically placed by each face's baseline. */
  draw(text: string, rect: Rect, colour: number, fonts: FontSet, align: Align = 'left'): void {
    if (!text || rect.width <= 0) return;
    const line = this.measureLine(text, fonts);
    const slack = rect.width - line.inkWidth;
    const offset = align === 'left' ? 0 : align === 'right' ? slack : Math.floor(slack / 2);
    const start = rect.x + Math.max(0, offset) + line.inkLeft;
    const { x, y, width, height } = rect;

    const mask = this.mask;
    mask.fillStyle = 'rgb(0,0,0)';
    mask.fillRect(x, y, width, height);
    mask.fillStyle = 'rgb(255,255,255)';
    let pen = 0;
    for (const { run, face, metrics } of line.runs) {
      this.useFace(face);
      // Whole-pixel pen positions keep every run on the LED grid.
      mask.fillText(run.text, Math.round(start + pen), y + face.baseline);
      pen += metrics.advance;
    }

    const coverage = mask.getImageData(x, y, width, height).data;
    const out = this.target.getImageData(x, y, width, height);
    const [r, g, b] = PALETTE[colour] ?? OFF;
    for (let i = 0; i < coverage.length; i += 4) {
      if ((coverage[i] as number) < LIT_FROM) continue;
      out.data[i] = r;
      out.data[i + 1] = g;
      out.data[i + 2] = b;
      out.data[i + 3] = 255;
    }
    this.target.putImageData(out, x, y);
  }
}
