/**
 * The parts of a board, each drawn into its own rectangles of the layout: the
 * "no departures" message, the board-wide notices and the status line.
 * Departure rows are drawn by departureRows.ts, announcements placed by
 * noticePlacement.ts.
 */
import type { BoardView } from './boardView';
import { Colour } from './frame';
import type { Rect } from './frame';
import type { BoardLayout } from './layout';
import {
  clockText,
  localized,
  noticeText,
  pageStrings,
  type Language,
  type PageStrings,
  type Phrase,
} from './textFormat';
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

/** The page's built-in words, in the sign's Chinese script. */
const stringsOf = (view: BoardView, language: Language = view.language) =>
  pageStrings(language, view.chineseScript);

/** The page's languages: a bilingual template says everything in Chinese, then in English. */
const languagesOf = ({ view, layout }: Board): Language[] =>
  layout.languages === 'both' && view.language === 'zh' ? ['zh', 'en'] : [view.language];

/** Centred lines (one per language) in the middle of the rows area. */
function drawCentred(board: Board, phrases: Phrase[], colour: number): void {
  const { layout, painter } = board;
  const area = layout.rowsArea;
  const top = area.y + Math.floor((area.height - phrases.length * layout.lineHeight) / 2);
  phrases.forEach((phrase, i) => {
    const line: Rect = {
      x: area.x,
      y: top + i * layout.lineHeight,
      width: area.width,
      height: layout.lineHeight,
    };
    painter.draw(fitted(board, phrase, line.width), line, colour, layout.fonts, 'center');
  });
}

export function drawNoDepartures(board: Board): void {
  // An unconfigured sign says it is waiting for data, never that no bus will come.
  const phrases = languagesOf(board).map((l) => {
    const strings = stringsOf(board.view, l);
    return board.view.updating ? strings.updating : strings.noDepartures;
  });
  drawCentred(board, phrases, COLOURS.noDepartures);
}

/** Service ended, first bus, or a stop gone from the timetable, in place of the rows. */
export function drawNotice(board: Board): void {
  const { view } = board;
  const notice = view.notice;
  if (!notice) return;
  const colour = notice.kind === 'stop-missing' ? Colour.red : COLOURS.noDepartures;
  const phrases = languagesOf(board).map((language) =>
    noticeText(notice, language, view.timezone, view.chineseScript),
  );
  drawCentred(board, phrases, colour);
}

/**
 * The status-line marker, or null when the board is live and current: timetable
 * times must never look live, and live times no longer being confirmed say so.
 */
function statusMarker(board: Board): { text: string; colour: number } | null {
  const { view, layout, painter } = board;
  let pick: ((strings: PageStrings) => Phrase) | null = null;
  let colour: number = COLOURS.scheduledMarker;
  if (view.mode === 'scheduled') pick = (strings) => strings.scheduled;
  else if (view.rows.some((row) => row.stale)) {
    pick = (strings) => strings.notUpdating;
    colour = Colour.grey;
  }
  if (!pick) return null;
  const phrases = languagesOf(board).map((language) => pick(stringsOf(view, language)));
  const width = layout.status.label.width;
  // Both languages when they fit side by side, else the page's own.
  const both = phrases.map((p) => p.full).join('  ');
  if (phrases.length > 1 && painter.fits(both, width, layout.fonts)) return { text: both, colour };
  return { text: fitted(board, phrases[0]!, width), colour };
}

/**
 * Where a one-line info announcement would go on the status line: all of it,
 * except that the scheduled marker stays, because times from the cache must
 * never look live.
 */
export function statusMessageRect(board: Board): Rect {
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
