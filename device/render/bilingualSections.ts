/**
 * The parts only large templates have: a header line with the stop's name,
 * and bilingual rows (Chinese destination over English), which e-paper needs
 * because it cannot flip language pages every few seconds.
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

/** English destinations under the Chinese ones; nothing when the row has no Chinese name. */
export function drawSecondLanguage({ view, layout, painter }: Board): void {
  layout.rows.forEach((slot, i) => {
    const row = view.rows[i];
    const rect = slot.secondLine;
    if (!row || !rect || !row.headsign.zh?.trim()) return;
    const text = shortenToFit(row.headsign.en, rect.width, painter, layout.fonts);
    painter.draw(text, rect, Colour.grey, layout.fonts);
  });
}
