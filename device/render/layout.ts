/**
 * Where everything goes on the glass, as data: one table row per sign class, and
 * layoutFor() turning a size into rectangles. Tests and tools crop frames with
 * these same rectangles, so layout and checks cannot drift apart.
 */
import { leastDestinationWidth } from '../../shared';
import type { Rect } from './frame';
import type { FontSet } from './fonts';
import { FONTS_16, FONTS_16_CONDENSED } from './fonts';

export interface GeometryClass {
  /** Smallest sign this class applies to; the largest class that fits is used. */
  minWidth: number;
  minHeight: number;
  lineHeight: number;
  routeWidth: number;
  timeWidth: number;
  /** Empty columns between route, destination and time, so columns never touch. */
  gutter: number;
  clockWidth: number;
  fonts: FontSet;
}

export const MIN_WIDTH = 128;
export const MIN_HEIGHT = 32;

/**
 * Widths fit the widest text each column must hold in its class's Latin face:
 * route "101"/"N12", time "12 min" / "23:59" / "99分", clock "23:59".
 * Ordered from smallest to largest.
 */
export const GEOMETRY_CLASSES: readonly GeometryClass[] = [
  {
    minWidth: 128,
    minHeight: 32,
    lineHeight: 16,
    routeWidth: 27,
    timeWidth: 46,
    gutter: 2,
    clockWidth: 40,
    fonts: FONTS_16_CONDENSED,
  },
  {
    minWidth: 192,
    minHeight: 64,
    lineHeight: 16,
    routeWidth: 30,
    timeWidth: 52,
    gutter: 3,
    clockWidth: 44,
    fonts: FONTS_16,
  },
  {
    minWidth: 256,
    minHeight: 64,
    lineHeight: 16,
    routeWidth: 32,
    timeWidth: 54,
    gutter: 6,
    clockWidth: 44,
    fonts: FONTS_16,
  },
];

export interface RowLayout {
  row: Rect;
  route: Rect;
  destination: Rect;
  time: Rect;
  /** Bilingual templates: the English destination under the Chinese one, */
  secondLine?: Rect;
  /** and the English time under the Chinese time. */
  secondTime?: Rect;
}

export interface StatusLayout {
  line: Rect;
  /** Stop name, or the scheduled marker. */
  label: Rect;
  clock: Rect;
}

export interface BoardLayout {
  width: number;
  height: number;
  lineHeight: number;
  fonts: FontSet;
  panel: Rect;
  /** Everything above the status line: departure rows, or the "no departures" message. */
  rowsArea: Rect;
  rows: RowLayout[];
  status: StatusLayout;
  /** Text lines a full-panel announcement is wrapped over. */
  announcementLines: Rect[];
  /** alternate: one language per page; both: Chinese over English on every row. */
  languages: 'alternate' | 'both';
  /** Stop name line across the top, when the template has one. */
  header?: Rect;
  notices: 'line' | 'alternate';
  /**
   * A time wider than its column ("Cancelled", a grouped row's two times) takes
   * room from its own row's destination, down to this width, before it falls back
   * to its compact form.
   */
  minDestinationWidth: number;
}

/** The geometry a panel profile's layout template gives (see shared/panelProfile.ts). */
export interface LayoutTemplate {
  lineHeight: number;
  routeWidth: number;
  timeWidth: number;
  gutter: number;
  clockWidth: number;
  languages?: 'alternate' | 'both';
  header?: boolean;
  /** Where info and warnings go: a line (or lines) beside the departures, or pages of their own. */
  notices?: 'line' | 'alternate';
  /** Least width a destination keeps when a wide time takes room from it; 3 lines' height if unset. */
  minDestinationWidth?: number;
}

function geometryFor(width: number, height: number): GeometryClass {
  const fitting = GEOMETRY_CLASSES.filter((g) => g.minWidth <= width && g.minHeight <= height);
  const geometry = fitting[fitting.length - 1];
  if (!geometry) {
    throw new RangeError(
      `sign ${width}x${height} is smaller than the ${MIN_WIDTH}x${MIN_HEIGHT} minimum`,
    );
  }
  return geometry;
}

function rowLayout(g: LayoutTemplate, width: number, y: number, both: boolean): RowLayout {
  const h = g.lineHeight;
  const destinationX = g.routeWidth + g.gutter;
  const timeX = width - g.timeWidth;
  const destinationWidth = timeX - g.gutter - destinationX;
  return {
    row: { x: 0, y, width, height: both ? 2 * h : h },
    route: { x: 0, y, width: g.routeWidth, height: h },
    destination: { x: destinationX, y, width: destinationWidth, height: h },
    time: { x: timeX, y, width: g.timeWidth, height: h },
    ...(both
      ? {
          secondLine: { x: destinationX, y: y + h, width: destinationWidth, height: h },
          secondTime: { x: timeX, y: y + h, width: g.timeWidth, height: h },
        }
      : {}),
  };
}

/** The layout of the legacy size table, for views that name no profile. */
export function layoutFor(width: number, height: number): BoardLayout {
  const g = geometryFor(width, height);
  return layoutFromTemplate(g, g.fonts, width, height);
}

/** Rectangles for a glass of width x height from a profile's layout template. */
export function layoutFromTemplate(
  g: LayoutTemplate,
  fonts: FontSet,
  width: number,
  height: number,
): BoardLayout {
  const h = g.lineHeight;
  const both = g.languages === 'both';
  const headerHeight = g.header ? h : 0;
  // The status line sits on the bottom edge; rows fill from the top, spare pixels fall between.
  const statusY = height - h;
  const rowHeight = both ? 2 * h : h;
  const rowCount = Math.floor((statusY - headerHeight) / rowHeight);
  const rows = Array.from({ length: rowCount }, (_, i) =>
    rowLayout(g, width, headerHeight + i * rowHeight, both),
  );
  const clockX = width - g.clockWidth;
  const lineCount = Math.floor(height / h);
  const top = Math.floor((height - lineCount * h) / 2);
  return {
    width,
    height,
    lineHeight: h,
    fonts,
    panel: { x: 0, y: 0, width, height },
    rowsArea: { x: 0, y: headerHeight, width, height: statusY - headerHeight },
    languages: both ? 'both' : 'alternate',
    notices: g.notices ?? 'line',
    minDestinationWidth: leastDestinationWidth(g),
    ...(g.header ? { header: { x: 0, y: 0, width, height: h } } : {}),
    rows,
    status: {
      line: { x: 0, y: statusY, width, height: h },
      label: { x: 0, y: statusY, width: clockX - g.gutter, height: h },
      clock: { x: clockX, y: statusY, width: g.clockWidth, height: h },
    },
    announcementLines: Array.from({ length: lineCount }, (_, i) => ({
      x: 0,
      y: top + i * h,
      width,
      height: h,
    })),
  };
}
