/**
 * Destination names as they go on the glass: the route number a feed repeats
 * at the start of the headsign is dropped ("138 PARKLAND" on route 138), and
 * the agency's abbreviation table is applied only when the name does not fit.
 */
import type { BoardView } from './boardView';
import type { FontSet } from './fonts';
import type { BoardLayout } from './layout';
import { shortenAtWord, shortenToFit } from './shorten';
import type { TextPainter } from './textPainter';

export type AbbreviationTable = readonly (readonly [long: string, short: string])[];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** "138 PARKLAND" on route 138 -> "PARKLAND"; "138A Lacewood" on 138 stays (another route). */
export function withoutRoutePrefix(headsign: string, route: string): string {
  const r = route.trim();
  if (!r) return headsign.trim();
  const match = new RegExp(`^\\s*${escape(r)}(?:\\s*[-:–]\\s*|\\s+)(?=\\S)`, 'iu').exec(headsign);
  return match ? headsign.slice(match[0].length).trim() : headsign.trim();
}

/** Applies whole-word abbreviations (case kept for all-caps names), longest first. */
export function abbreviate(name: string, table: AbbreviationTable): string {
  let out = name;
  const sorted = [...table].sort((a, b) => b[0].length - a[0].length);
  for (const [long, short] of sorted) {
    out = out.replace(
      new RegExp(`(?<![\\p{L}\\p{N}])${escape(long)}(?![\\p{L}\\p{N}])`, 'giu'),
      (m) => (m === m.toUpperCase() && m !== m.toLowerCase() ? short.toUpperCase() : short),
    );
  }
  return out;
}

/** The name to draw in `width`: without the route prefix, abbreviated only if it must be. */
export function destinationFor(
  headsign: string,
  route: string,
  width: number,
  table: AbbreviationTable,
  painter: TextPainter,
  fonts: FontSet,
): string {
  const name = withoutRoutePrefix(headsign, route);
  if (painter.fits(name, width, fonts)) return name;
  return abbreviate(name, table);
}

/** A destination in `width`: route prefix dropped, abbreviated if needed, then shortened at a word. */
export function fitDestination(
  headsign: string,
  route: string,
  width: number,
  table: AbbreviationTable,
  painter: TextPainter,
  fonts: FontSet,
): string {
  const name = destinationFor(headsign, route, width, table, painter, fonts);
  return shortenToFit(name, width, painter, fonts);
}

/** As fitDestination, but null where only a cut inside a word would fit. */
export function fitDestinationAtWord(
  headsign: string,
  route: string,
  width: number,
  table: AbbreviationTable,
  painter: TextPainter,
  fonts: FontSet,
): string | null {
  const name = destinationFor(headsign, route, width, table, painter, fonts);
  return shortenAtWord(name, width, painter, fonts);
}

/**
 * The stop name made to fit the status line: abbreviated if it must be, then
 * shortened at a word. (Destinations are fitted where they are drawn, in the
 * width the row's time and mark leave them.)
 */
export function fitStopName(
  view: BoardView,
  layout: BoardLayout,
  painter: TextPainter,
  table: AbbreviationTable,
): BoardView {
  if (!view.stopName) return view;
  const fonts = layout.fonts;
  const width = layout.status.label.width;
  const fit = (name: string): string =>
    shortenToFit(
      painter.fits(name, width, fonts) ? name : abbreviate(name, table),
      width,
      painter,
      fonts,
    );
  const stopName = { ...view.stopName, en: fit(view.stopName.en) };
  if (view.stopName.zh !== undefined) stopName.zh = fit(view.stopName.zh);
  return { ...view, stopName };
}
