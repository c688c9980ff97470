/**
 * The parts of a board, each drawn into its own rectangles of the layout:
 * departure rows, the "no departures" message and the status line. Announcements are
 * placed by noticePlacement.ts.
 */
import type { BoardView } from './boardView';
import { Colour } from './frame';
import type { Rect } from './frame';
import type { BoardLayout } from './layout';
import { clockText, departureTime, localized, pageStrings } from './textFormat';
import type { TextPainter } from './textPainter';

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
  const text = painter.truncate(pageStrings(view.language).noDepartures, line.width, layout.fonts);
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
export function statusMessageRect(board: Board): Rect {
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
