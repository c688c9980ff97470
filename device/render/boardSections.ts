/**
 * The parts of a board, each drawn into its own rectangles of the layout:
 * departure rows, the "no departures" message, the status line and announcements.
 */
import type { BoardView } from './boardView';
import { Colour } from './frame';
import type { Rect } from './frame';
import type { BoardLayout } from './layout';
import { clockText, departureTime, localized, pageStrings } from './textFormat';
import type { TextPainter } from './textPainter';
import { wrapText } from './wrap';

export interface Board {
  view: BoardView;
  layout: BoardLayout;
  painter: TextPainter;
}

type Priority = NonNullable<BoardView['announcement']>['priority'];

export const PRIORITY_COLOUR: Record<Priority, number> = {
  info: Colour.white,
  warning: Colour.amber,
  emergency: Colour.red,
};

const COLOURS = {
  route: Colour.yellow,
  destination: Colour.white,
  stopName: Colour.grey,
  clock: Colour.white,
  scheduledMarker: Colour.amber,
  noDepartures: Colour.amber,
} as const;

export function drawDepartures({ view, layout, painter }: Board): void {
  const fonts = layout.fonts;
  layout.rows.forEach((slot, i) => {
    const row = view.rows[i];
    if (!row) return;
    const route = painter.truncate(row.route.trim(), slot.route.width, fonts);
    painter.draw(route, slot.route, COLOURS.route, fonts);
    const headsign = localized(row.headsign, view.language);
    const destination = painter.truncate(headsign, slot.destination.width, fonts);
    painter.draw(destination, slot.destination, COLOURS.destination, fonts);
    const time = departureTime(row, view.now, view.timezone, view.language);
    const timeText = painter.truncate(time.text, slot.time.width, fonts);
    painter.draw(timeText, slot.time, time.colour, fonts, 'right');
  });
}

export function drawNoDepartures({ view, layout, painter }: Board): void {
  const area = layout.rowsArea;
  const line: Rect = {
    x: area.x,
    y: area.y + Math.floor((area.height - layout.lineHeight) / 2),
    width: area.width,
    height: layout.lineHeight,
  };
  const strings = pageStrings(view.language);
  // An unconfigured sign says it is waiting for data, never that no bus will come.
  const words = view.updating ? strings.updating : strings.noDepartures;
  const text = painter.truncate(words, line.width, layout.fonts);
  painter.draw(text, line, COLOURS.noDepartures, layout.fonts, 'center');
}

/** The scheduled marker as it fits the label area, or null when the times shown are live. */
function scheduledMarker({ view, layout, painter }: Board): string | null {
  if (view.mode !== 'scheduled') return null;
  const label = pageStrings(view.language).scheduled;
  return painter.truncate(label, layout.status.label.width, layout.fonts);
}

/**
 * Where a one-line info announcement would go on the status line: all of it,
 * except that the scheduled marker stays, because times from the cache must
 * never look live.
 */
function statusMessageRect(board: Board): Rect {
  const { line } = board.layout.status;
  const marker = scheduledMarker(board);
  if (!marker) return line;
  const used = board.painter.width(marker, board.layout.fonts) + board.layout.lineHeight / 2;
  return { ...line, x: line.x + used, width: line.width - used };
}

export function drawStatusLine(board: Board, message?: string): void {
  const { view, layout, painter } = board;
  const { status, fonts } = layout;
  const marker = scheduledMarker(board);
  if (marker) painter.draw(marker, status.label, COLOURS.scheduledMarker, fonts);
  if (message !== undefined) {
    const priority = view.announcement?.priority ?? 'info';
    painter.draw(message, statusMessageRect(board), PRIORITY_COLOUR[priority], fonts);
    return;
  }
  if (!marker && view.stopName) {
    const name = painter.truncate(
      localized(view.stopName, view.language),
      status.label.width,
      fonts,
    );
    painter.draw(name, status.label, COLOURS.stopName, fonts);
  }
  painter.draw(clockText(view.now, view.timezone), status.clock, COLOURS.clock, fonts, 'right');
}

export type AnnouncementPlacement =
  | { kind: 'none' }
  | { kind: 'status'; text: string }
  | { kind: 'panel'; text: string; colour: number };

/** Info that fits goes on the status line; anything longer or more urgent takes the panel. */
export function placeAnnouncement(board: Board): AnnouncementPlacement {
  const announcement = board.view.announcement;
  if (!announcement) return { kind: 'none' };
  const text = localized(announcement.text, board.view.language).replace(/\s+/g, ' ');
  if (!text) return { kind: 'none' };
  const fitsStatus = board.painter.fits(text, statusMessageRect(board).width, board.layout.fonts);
  if (announcement.priority === 'info' && fitsStatus) return { kind: 'status', text };
  const full = localized(announcement.text, board.view.language);
  return { kind: 'panel', text: full, colour: PRIORITY_COLOUR[announcement.priority] };
}

export function drawAnnouncementPanel(
  { layout, painter }: Board,
  text: string,
  colour: number,
): void {
  const slots = layout.announcementLines;
  const width = layout.panel.width;
  const lines = wrapText(text, width, slots.length, painter, layout.fonts);
  const first = Math.floor((slots.length - lines.length) / 2);
  lines.forEach((line, i) => {
    const slot = slots[first + i];
    if (slot) painter.draw(line, slot, colour, layout.fonts, 'center');
  });
}
