/**
 * What rendering needs from a panel profile, worked out once per profile:
 * the layout its template gives, its fonts, its glass palette, and which
 * characters its fonts can draw.
 */
import { registerFont } from 'canvas';
import * as fontkit from 'fontkit';
import { GlyphCoverage, replaceMissing } from '../../panels/glyphCoverage';
import type { PanelProfile } from '../../shared';
import type { BoardView } from './boardView';
import type { FontSet } from './fonts';
import { glassPalette, type GlassPalette } from './glassPalette';
import { layoutFromTemplate, type BoardLayout } from './layout';

export interface PreparedProfile {
  profile: PanelProfile;
  layout: BoardLayout;
  palette: GlassPalette;
  /** Whether the layout's fonts draw this character crisply. */
  canDraw: (grapheme: string) => boolean;
}

const prepared = new WeakMap<PanelProfile, PreparedProfile>();
const coverage = new GlyphCoverage();
const registeredFiles = new Set<string>();

/**
 * Registers the profile's font files with canvas under the family each file
 * declares for its first face: for a collection (.ttc) canvas maps an alias to
 * the first face, which would hide the face the profile names.
 */
function registerProfileFonts(profile: PanelProfile): void {
  for (const set of Object.values(profile.fonts)) {
    for (const face of [set.latin, set.cjk]) {
      if (registeredFiles.has(face.file)) continue;
      const opened = fontkit.openSync(face.file);
      const first = 'fonts' in opened ? opened.fonts[0] : opened;
      registerFont(face.file, { family: first?.familyName ?? face.family, weight: face.weight });
      registeredFiles.add(face.file);
    }
  }
}

export function prepareProfile(profile: PanelProfile): PreparedProfile {
  let ready = prepared.get(profile);
  if (ready) return ready;
  registerProfileFonts(profile);
  const template = profile.layout;
  const panelFonts = profile.fonts[String(template.lineHeight)];
  if (!panelFonts)
    throw new RangeError(`${profile.id} has no fonts for ${template.lineHeight} px lines`);
  const fonts: FontSet = { latin: panelFonts.latin, cjk: panelFonts.cjk };
  ready = {
    profile,
    layout: layoutFromTemplate(template, fonts, profile.width, profile.height),
    palette: glassPalette(profile.colour),
    canDraw: (grapheme) => coverage.drawable(grapheme, panelFonts),
  };
  prepared.set(profile, ready);
  return ready;
}

/** The view with every character the fonts cannot draw replaced, so glass never shows a box. */
export function drawableView(view: BoardView, canDraw: (grapheme: string) => boolean): BoardView {
  const fix = (text: string): string => replaceMissing(text, canDraw);
  const fixText = <T extends { en: string; zh?: string | undefined }>(text: T): T => ({
    ...text,
    en: fix(text.en),
    ...(text.zh === undefined ? {} : { zh: fix(text.zh) }),
  });
  const out: BoardView = {
    ...view,
    rows: view.rows.map((row) => ({
      ...row,
      route: fix(row.route),
      headsign: fixText(row.headsign),
    })),
  };
  if (view.stopName) out.stopName = fixText(view.stopName);
  if (view.announcement)
    out.announcement = { ...view.announcement, text: fixText(view.announcement.text) };
  return out;
}
