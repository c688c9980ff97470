/**
 * The parts of a board, each drawn into its own rectangles of the layout:
 * departure rows, the "no departures" message, the status line and announcements.
 */
import type { BoardView } from './boardView';
import { Colour } from './frame';
import type { Rect } from './frame';
import type { BoardLayout } from './layout';
import {
  clockText,
  departureTime,
  localized,
  noticeText,
  pageStrings,
  rowMark,
  type Phrase,
} from './textFormat';
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

/** The full form when it fits, else the compact one (cut to fit if even that is too wide). */
function fitted(board: Board, phrase: Phrase, width: number): string {
  const { painter, layout } = board;
  if (painter.fits(phrase.full, width, layout.fonts)) return phrase.full;
  return painter.truncate(phrase.compact, width, layout.fonts);
}

/** Share of the destination column a mark may never take: the destination matters more. */
const DESTINATION_SHARE_KEPT = 0.55;

export function drawDepartures(board: Board): void {
  const { view, layout, painter } = board;
  const fonts = layout.fonts;
  layout.rows.forEach((slot, i) => {
    const row = view.rows[i];
    if (!row) return;
    const route = painter.truncate(row.route.trim(), slot.route.width, fonts);
    painter.draw(route, slot.route, COLOURS.route, fonts);
    let destinationRect = slot.destination;
    const mark = rowMark(row, view.language);
    if (mark) {
      // The mark sits at the right end of the destination column, a space's width from the name.
      const room = Math.floor(slot.destination.width * (1 - DESTINATION_SHARE_KEPT));
      const markText = [mark.full, mark.compact].find((text) => painter.fits(text, room, fonts));
      if (markText !== undefined) {
        const markWidth = painter.width(markText, fonts);
        const gap = Math.ceil(layout.lineHeight / 4);
        const markRect = {
          ...slot.destination,
          x: slot.destination.x + slot.destination.width - markWidth,
          width: markWidth,
        };
        painter.draw(markText, markRect, mark.colour, fonts, 'right');
        destinationRect = { ...slot.destination, width: slot.destination.width - markWidth - gap };
      }
    }
    const headsign = localized(row.headsign, view.language);
    const destination = painter.truncate(headsign, destinationRect.width, fonts);
    const cancelled = row.source === 'cancelled';
    painter.draw(
      destination,
      destinationRect,
      cancelled ? Colour.grey : COLOURS.destination,
      fonts,
    );
    const time = departureTime(row, view.now, view.timezone, view.language, view.clockSynced);
    painter.draw(fitted(board, time, slot.time.width), slot.time, time.colour, fonts, 'right');
  });
}

/** One centred line in the middle of the rows area. */
function drawCentred(board: Board, phrase: Phrase, colour: number): void {
  const { layout, painter } = board;
  const area = layout.rowsArea;
  const line: Rect = {
    x: area.x,
    y: area.y + Math.floor((area.height - layout.lineHeight) / 2),
    width: area.width,
    height: layout.lineHeight,
  };
  painter.draw(fitted(board, phrase, line.width), line, colour, layout.fonts, 'center');
}

export function drawNoDepartures(board: Board): void {
  const strings = pageStrings(board.view.language);
  // An unconfigured sign says it is waiting for data, never that no bus will come.
  const phrase = board.view.updating ? strings.updating : strings.noDepartures;
  drawCentred(board, phrase, COLOURS.noDepartures);
}

/** Service ended, first bus, or a stop gone from the timetable, in place of the rows. */
export function drawNotice(board: Board): void {
  const { view } = board;
  if (!view.notice) return;
  const colour = view.notice.kind === 'stop-missing' ? Colour.red : COLOURS.noDepartures;
  drawCentred(board, noticeText(view.notice, view.language, view.timezone), colour);
}

/**
 * The status-line marker, or null when the board is live and current: timetable
 * times must never look live, and live times no longer being confirmed say so.
 */
function statusMarker({ view, layout, painter }: Board): { text: string; colour: number } | null {
  const strings = pageStrings(view.language);
  let phrase: Phrase | null = null;
  let colour: number = COLOURS.scheduledMarker;
  if (view.mode === 'scheduled') phrase = strings.scheduled;
  else if (view.rows.some((row) => row.stale)) {
    phrase = strings.notUpdating;
    colour = Colour.grey;
  }
  if (!phrase) return null;
  const width = layout.status.label.width;
  const text = painter.fits(phrase.full, width, layout.fonts)
    ? phrase.full
    : painter.truncate(phrase.compact, width, layout.fonts);
  return { text, colour };
}

/**
 * Where a one-line info announcement would go on the status line: all of it,
 * except that the scheduled marker stays, because times from the cache must
 * never look live.
 */
function statusMessageRect(board: Board): Rect {
  const { line } = board.layout.status;
  const marker = statusMarker(board);
  if (!marker) return line;
  const used = board.painter.width(marker.text, board.layout.fonts) + board.layout.lineHeight / 2;
  return { ...line, x: line.x + used, width: line.width - used };
}

export function drawStatusLine(board: Board, message?: string): void {
  const { view, layout, painter } = board;
  const { status, fonts } = layout;
  const marker = statusMarker(board);
  if (marker) painter.draw(marker.text, status.label, marker.colour, fonts);
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
