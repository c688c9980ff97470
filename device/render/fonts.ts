/**
 * Faces the board is drawn with, and their one-time registration.
 *
 * LED glass needs hard pixels; every run is drawn as glyphs into a mask that
 * the painter cuts at half coverage (see textPainter.ts):
 * - CJK uses "WenQuanYi Zen Hei Sharp", whose hand-tuned 1-bit bitmap strikes at
 *   12-16 px come out of cairo already hard, so the cut changes nothing.
 * - Latin uses DejaVu Sans Bold: its 2 px stems read from a distance, and cutting
 *   its smooth outline at half coverage gives cleaner letters than filling the
 *   outline with antialiasing off (which drops thin joins).
 */
import { existsSync } from 'node:fs';
import { registerFont } from 'canvas';

export interface FaceSpec {
  family: string;
  weight: 'normal' | 'bold';
  sizePx: number;
  /** Baseline, in px below the top of a text line, chosen so the ink sits centred. */
  baseline: number;
}

/** Which face draws which script within one line height. */
export interface FontSet {
  latin: FaceSpec;
  cjk: FaceSpec;
}

const WQY_FILE = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';
const DEJAVU_BOLD_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';
const DEJAVU_CONDENSED_BOLD_FILE = '/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf';

/** The Sharp face only has bitmap strikes at these sizes; anything else would be outlines. */
export const CJK_BITMAP_SIZES: readonly number[] = [12, 13, 14, 15, 16];

const CJK_14: FaceSpec = {
  family: 'WenQuanYi Zen Hei Sharp',
  weight: 'normal',
  sizePx: 14,
  baseline: 13,
};

/** 16 px lines: DejaVu Sans Bold 13 px caps are 10 px tall, Sharp 14 px ideographs 13 px. */
export const FONTS_16: FontSet = {
  latin: { family: 'DejaVu Sans', weight: 'bold', sizePx: 13, baseline: 12 },
  cjk: CJK_14,
};

/** Same line, narrower Latin letters: keeps destinations readable on 128 px wide signs. */
export const FONTS_16_CONDENSED: FontSet = {
  latin: {
    family: 'DejaVu Sans Condensed',
    weight: 'bold',
    sizePx: 13,
    baseline: 12,
  },
  cjk: CJK_14,
};

interface FontFile {
  path: string;
  /**
   * Family name the file itself declares for its first face. Registering under the
   * declared name (not an alias) matters for the .ttc: canvas maps an alias to the
   * first face, which would hide the Sharp face behind the smooth one.
   */
  family: string;
  weight: 'normal' | 'bold';
  missing: string;
}

const FONT_FILES: readonly FontFile[] = [
  {
    path: WQY_FILE,
    family: 'WenQuanYi Zen Hei',
    weight: 'normal',
    missing: 'CJK font not found: install fonts-wqy-zenhei',
  },
  {
    path: DEJAVU_BOLD_FILE,
    family: 'DejaVu Sans',
    weight: 'bold',
    missing: 'Latin font not found: install fonts-dejavu-core',
  },
  {
    path: DEJAVU_CONDENSED_BOLD_FILE,
    family: 'DejaVu Sans Condensed',
    weight: 'bold',
    missing: 'Latin font not found: install fonts-dejavu-core',
  },
];

let registered = false;

/**
 * Registers the board faces with canvas. Idempotent; renderBoard calls it itself,
 * but calling it at startup surfaces a missing font before the first frame.
 */
export function registerBoardFonts(): void {
  if (registered) return;
  for (const file of FONT_FILES) {
    if (!existsSync(file.path)) throw new Error(`${file.missing} (${file.path})`);
  }
  for (const file of FONT_FILES) {
    registerFont(file.path, { family: file.family, weight: file.weight });
  }
  registered = true;
}

export function faceCss(face: FaceSpec): string {
  return `${face.weight} ${face.sizePx}px "${face.family}"`;
}
