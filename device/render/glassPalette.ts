/**
 * What each colour model can show, and which of its colours each of the
 * renderer's colour roles becomes. The renderer draws in the role colours of
 * the LED palette (frame.ts); a profile's glass then gets its own indices:
 * - LED models keep the LED palette's indices (the serial protocol carries
 *   them), using only the ones their diodes can light;
 * - e-paper models have their own palettes, index 0 being blank paper.
 */
import type { ColourModel, InkRole, PanelProfile } from '../../shared';
import { Colour, PALETTE, type IndexedFrame, type Rgb } from './frame';

export interface GlassPalette {
  model: ColourModel;
  /** RGB of each glass index, for pictures of the glass. */
  rgb: readonly Rgb[];
  /** Renderer colour (LED palette index) -> glass index. */
  fromRender: Uint8Array;
  /** LED glass lights its pixels; e-paper inks them onto white. */
  emissive: boolean;
}

const GREY16: Rgb[] = Array.from({ length: 16 }, (_, i) => {
  const v = Math.round(255 - (i * 255) / 15);
  return [v, v, v] as const;
});
const GREY4: Rgb[] = [0, 1, 2, 3].map((i) => {
  const v = Math.round(255 - (i * 255) / 3);
  return [v, v, v] as const;
});

/** Paper and ink as e-paper really looks: warm off-white, not pure black. */
export const PAPER_TONE = { white: [232, 230, 222] as Rgb, black: [38, 38, 42] as Rgb };

/** Renderer colours that are not roles of their own follow the role they dim. */
const DIM_OF: Record<number, InkRole> = {
  8: 'amber',
  9: 'green',
  10: 'red',
  11: 'white',
  12: 'blue',
  13: 'yellow',
  14: 'grey',
  15: 'red',
};

interface ModelSpec {
  rgb: readonly Rgb[];
  emissive: boolean;
  inks: Record<InkRole, number>;
}

function nearestPaletteIndex(rgb: Rgb): number {
  let best = 1;
  let bestError = Infinity;
  PALETTE.forEach(([r, g, b], i) => {
    if (i === 0) return;
    const error = (r - rgb[0]) ** 2 + (g - rgb[1]) ** 2 + (b - rgb[2]) ** 2;
    if (error < bestError) [best, bestError] = [i, error];
  });
  return best;
}

function modelSpec(colour: PanelProfile['colour']): ModelSpec {
  switch (colour.model) {
    case 'rgb-led':
      return {
        rgb: PALETTE,
        emissive: true,
        inks: { amber: 1, green: 2, red: 3, white: 4, blue: 5, yellow: 6, grey: 7 },
      };
    case 'mono-led': {
      const on = nearestPaletteIndex(colour.ledRgb ?? PALETTE[Colour.amber]!);
      return {
        rgb: PALETTE,
        emissive: true,
        inks: { amber: on, green: on, red: on, white: on, blue: on, yellow: on, grey: on },
      };
    }
    case 'red-green-led':
      // Red and green diodes; both lit read as amber.
      return {
        rgb: PALETTE,
        emissive: true,
        inks: { amber: 1, green: 2, red: 3, white: 1, blue: 2, yellow: 1, grey: 1 },
      };
    case 'bw-eink':
      return {
        rgb: [
          [255, 255, 255],
          [0, 0, 0],
        ],
        emissive: false,
        inks: { amber: 1, green: 1, red: 1, white: 1, blue: 1, yellow: 1, grey: 1 },
      };
    case 'bwr-eink':
      // Red marks what needs attention: warnings and timetable (not live) times.
      return {
        rgb: [
          [255, 255, 255],
          [0, 0, 0],
          [200, 0, 0],
        ],
        emissive: false,
        inks: { amber: 2, green: 1, red: 2, white: 1, blue: 1, yellow: 1, grey: 1 },
      };
    case 'grey4-eink':
      return {
        rgb: GREY4,
        emissive: false,
        inks: { amber: 2, green: 3, red: 3, white: 3, blue: 2, yellow: 3, grey: 2 },
      };
    case 'grey16-eink':
      return {
        rgb: GREY16,
        emissive: false,
        inks: { amber: 10, green: 15, red: 15, white: 15, blue: 11, yellow: 15, grey: 9 },
      };
  }
}

const ROLE_OF: Record<number, InkRole> = {
  [Colour.amber]: 'amber',
  [Colour.green]: 'green',
  [Colour.red]: 'red',
  [Colour.white]: 'white',
  [Colour.blue]: 'blue',
  [Colour.yellow]: 'yellow',
  [Colour.grey]: 'grey',
};

export function glassPalette(colour: PanelProfile['colour']): GlassPalette {
  const spec = modelSpec(colour);
  const inks = { ...spec.inks, ...colour.inks };
  const fromRender = new Uint8Array(16);
  for (let i = 1; i < 16; i++) {
    const role = ROLE_OF[i] ?? DIM_OF[i] ?? 'white';
    // Full-colour LED glass shows every renderer colour as it is.
    const own = colour.model === 'rgb-led' && ROLE_OF[i] === undefined;
    fromRender[i] = own ? i : Math.min(spec.rgb.length - 1, inks[role]);
  }
  return { model: colour.model, rgb: spec.rgb, fromRender, emissive: spec.emissive };
}

/** The rendered frame in the glass's own indices (in place when the mapping is the identity). */
export function toGlass(frame: IndexedFrame, palette: GlassPalette): IndexedFrame {
  const map = palette.fromRender;
  if (map.every((v, i) => v === i)) return frame;
  const pixels = new Uint8Array(frame.pixels.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = map[frame.pixels[i] ?? 0] ?? 0;
  return { width: frame.width, height: frame.height, pixels };
}
