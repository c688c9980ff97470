/**
 * Where an announcement goes, so passengers still see their bus: only an
 * emergency takes the whole panel. Info and warnings take the status line
 * when they fit; a longer one takes lines at the bottom of a large board, or
 * pages along the status line of a small one; a template may instead
 * alternate whole pages of notice and departures. Text that does not fit
 * pages (on the wall clock), it is never cut off.
 */
import type { Board } from './boardSections';
import { PRIORITY_COLOUR, statusMessageRect } from './boardSections';
import type { BoardView } from './boardView';
import type { Rect } from './frame';
import type { BoardLayout } from './layout';
import { wrapText } from './wrap';

/** Seconds each page of a paged notice stays up. */
export const NOTICE_PAGE_SECONDS = 4;
/** At most this share of the departure rows gives way to a notice. */
const NOTICE_ROW_SHARE = 0.5;

export type NoticePlacement =
  | { kind: 'none' }
  | { kind: 'status'; text: string }
  | { kind: 'lines'; lines: string[]; rects: Rect[]; colour: number; layout: BoardLayout }
  | { kind: 'panel'; lines: string[]; colour: number };

/** The page language's text, or the other language's when this one has none. */
export function noticeText(view: BoardView): string {
  const text = view.announcement?.text;
  if (!text) return '';
  const zh = text.zh?.trim() ?? '';
  const en = text.en.trim();
  const own = view.language === 'zh' ? zh || en : en || zh;
  return own;
}

const everyLine = 1000;

function page<T>(items: T[], perPage: number, now: number): T[] {
  const pages = Math.max(1, Math.ceil(items.length / perPage));
  const index = Math.floor(now / NOTICE_PAGE_SECONDS) % pages;
  return items.slice(index * perPage, (index + 1) * perPage);
}

export function placeNotice(board: Board): NoticePlacement {
  const { view, layout, painter } = board;
  const announcement = view.announcement;
  const text = noticeText(view);
  if (!announcement || !text) return { kind: 'none' };
  const colour = PRIORITY_COLOUR[announcement.priority];
  const fonts = layout.fonts;
  const wrapPanel = (): NoticePlacement => {
    const all = wrapText(text, layout.panel.width, everyLine, painter, fonts);
    return { kind: 'panel', lines: page(all, layout.announcementLines.length, view.now), colour };
  };
  if (announcement.priority === 'emergency') return wrapPanel();
  const oneLine = text.replace(/\s+/g, ' ');
  if (layout.notices === 'alternate') {
    // Departures and the notice take turns on the whole glass.
    const noticeUp = Math.floor(view.now / NOTICE_PAGE_SECONDS) % 2 === 1;
    return noticeUp ? wrapPanel() : { kind: 'none' };
  }
  const statusWidth = statusMessageRect(board).width;
  if (painter.fits(oneLine, statusWidth, fonts)) return { kind: 'status', text: oneLine };
  const rowLines = layout.languages === 'both' ? 2 : 1;
  const spareRows = Math.floor(layout.rows.length * NOTICE_ROW_SHARE);
  if (spareRows >= 2) {
    // A large board gives as many of its bottom rows as the notice needs, up to half of them.
    const all = wrapText(text, layout.width, everyLine, painter, fonts);
    const rowsNeeded = Math.min(spareRows, Math.ceil(all.length / rowLines));
    const lineCount = rowsNeeded * rowLines;
    const bottom = layout.rowsArea.y + layout.rowsArea.height;
    const top = bottom - lineCount * layout.lineHeight;
    const rects = Array.from({ length: lineCount }, (_, i) => ({
      x: 0,
      y: top + i * layout.lineHeight,
      width: layout.width,
      height: layout.lineHeight,
    }));
    const rows = layout.rows.filter((r) => r.row.y + r.row.height <= top);
    return {
      kind: 'lines',
      lines: page(all, lineCount, view.now),
      rects,
      colour,
      layout: { ...layout, rows },
    };
  }
  // A small board pages the notice along its status line.
  const pieces = wrapText(oneLine, statusWidth, everyLine, painter, fonts);
  return { kind: 'status', text: page(pieces, 1, view.now)[0] ?? '' };
}

export function drawNoticeLines(
  board: Board,
  lines: string[],
  rects: Rect[],
  colour: number,
): void {
  lines.forEach((line, i) => {
    const rect = rects[i];
    if (rect) board.painter.draw(line, rect, colour, board.layout.fonts);
  });
}

export function drawNoticePanel(board: Board, lines: string[], colour: number): void {
  const slots = board.layout.announcementLines;
  const first = Math.floor((slots.length - lines.length) / 2);
  lines.forEach((line, i) => {
    const slot = slots[first + i];
    if (slot) board.painter.draw(line, slot, colour, board.layout.fonts, 'center');
  });
}
