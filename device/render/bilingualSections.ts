/**
 * The parts only large templates have: a header line with the stop's name,
 * and bilingual pages (Chinese over English on every row, drawn by
 * departureRows.ts), which e-paper needs because it cannot flip language pages
 * every few seconds.
 */
import type { Board } from './boardSections';
import type { BoardView } from './boardView';
import { Colour } from './frame';
import type { BoardLayout } from './layout';
import { shortenToFit } from './shorten';

/**
 * A bilingual template always draws the Chinese page and adds the English
 * line; a full-panel announcement carries both languages, one paragraph each.
 */
export function bilingual(view: BoardView, layout: BoardLayout): BoardView {
  if (layout.languages !== 'both') return view;
  const out: BoardView = { ...view, language: 'zh' };
  const text = view.announcement?.text;
  if (
    view.announcement &&
    text?.zh?.trim() &&
    text.en.trim() &&
    text.zh.trim() !== text.en.trim()
  ) {
    out.announcement = {
      ...view.announcement,
      text: { ...text, zh: `${text.zh.trim()}\n${text.en.trim()}` },
    };
  }
  return out;
}

export function drawHeader({ view, layout, painter }: Board): void {
  const rect = layout.header;
  if (!rect || !view.stopName) return;
  const zh = view.stopName.zh?.trim();
  const en = view.stopName.en.trim();
  const name = zh && zh !== en ? `${zh}  ${en}` : en;
  painter.draw(
    shortenToFit(name, rect.width, painter, layout.fonts),
    rect,
    Colour.white,
    layout.fonts,
  );
}
