/**
 * What rendering needs from a panel profile, worked out once per profile:
 * the layout its template gives, its fonts, its glass palette, and which
 * characters its fonts can draw.
 */
import { createCanvas, registerFont } from 'canvas';
import * as fontkit from 'fontkit';
import { GlyphCoverage, replaceMissing } from '../../panels/glyphCoverage';
import { leastDestinationWidth, type PanelProfile } from '../../shared';
import type { BoardView } from './boardView';
import type { FontSet } from './fonts';
import { glassPalette, type GlassPalette } from './glassPalette';
import { layoutFromTemplate, type BoardLayout } from './layout';
import { measureTimeColumn } from './timeColumn';
import { TextPainter } from './textPainter';

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

/**
 * The time column, measured to hold the profile's widest countdown or clock
 * time (at least the template's own width, when it names one), but never so
 * wide that the destination keeps less than its least width.
 */
function timeColumnWidth(profile: PanelProfile, fonts: FontSet): number {
  const t = profile.layout;
  const measurer = new TextPainter(
    createCanvas(1, 1).getContext('2d'),
    createCanvas(1, 1).getContext('2d'),
  );
  const measure = (text: string): number => measurer.width(text, fonts);
  const needed = Math.max(t.timeWidth ?? 0, measureTimeColumn(measure));
  const most = profile.width - t.routeWidth - 2 * t.gutter - leastDestinationWidth(t);
  return Math.max(1, Math.min(needed, most));
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
    layout: layoutFromTemplate(
      { ...template, timeWidth: timeColumnWidth(profile, fonts) },
      fonts,
      profile.width,
      profile.height,
    ),
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
