/**
 * Departure rows: route | destination [mark] | time. Each line of a row is
 * fitted right to left: the time cell first (its full form where the row has
 * room, taking it from the destination down to the layout's least destination
 * width), then the mark ("sched", "3 stops", "Full"), and the destination
 * gets what is left, shortened at a word with an ellipsis. A bilingual
 * template gives each row a second line in English under the Chinese one.
 *
 * Fitting (planLine) only measures; drawing follows the plan, so tests can
 * check what each profile fits without reading pixels.
 */
import type { Board } from './boardSections';
import type { BoardRow } from './boardView';
import { fitDestination, fitDestinationAtWord } from './destinationNames';
import { Colour } from './frame';
import type { Rect } from './frame';
import { localized, rowMark, type Language } from './textFormat';
import { fitTime, pieceGap, timeChoices } from './timeCell';
import { ELLIPSIS } from './wrap';

const COLOURS = {
  route: Colour.yellow,
  destination: Colour.white,
  secondLine: Colour.grey,
  cancelled: Colour.grey,
} as const;

/** Share of the destination a mark may never take: the destination matters more. */
const DESTINATION_SHARE_KEPT = 0.55;

export interface LineSlots {
  destination: Rect;
  time: Rect;
}

/** Text placed in a rectangle, in one colour. */
export interface Placed {
  text: string;
  rect: Rect;
  colour: number;
}

export interface LinePlan {
  /** The time cell's pieces, left to right (two for a grouped row's pair). */
  time: Placed[];
  mark: Placed | null;
  destination: Placed | null;
}

/** The time cell at the right edge of the column, reaching into the destination if it must. */
function planTime(board: Board, row: BoardRow, slots: LineSlots, language: Language): Placed[] {
  const { view, layout, painter } = board;
  const fonts = layout.fonts;
  const measure = (text: string): number => painter.width(text, fonts);
  const gap = pieceGap(layout.lineHeight);
  const spare = Math.max(0, slots.destination.width - layout.minDestinationWidth);
  const choices = timeChoices(row, {
    now: view.now,
    timezone: view.timezone,
    language,
    clockSynced: view.clockSynced ?? true,
    script: view.chineseScript ?? 'simplified',
  });
  const fitted = fitTime(choices, slots.time.width + spare, measure, gap);
  // Not even the compact form fits: cut it rather than draw into the destination.
  const last = choices[choices.length - 1]![0]!;
  const pieces = fitted?.pieces ?? [
    { ...last, text: painter.truncate(last.text, slots.time.width, fonts) },
  ];
  const placed: Placed[] = [];
  let right = slots.time.x + slots.time.width;
  for (const piece of [...pieces].reverse()) {
    const width = measure(piece.text);
    placed.unshift({ ...piece, rect: { ...slots.time, x: right - width, width } });
    right -= width + gap;
  }
  return placed;
}

/** The mark's forms that fit in `width` beside the name, longest first; none when there is no mark. */
function markFor(board: Board, row: BoardRow, width: number, language: Language) {
  const { view, layout, painter } = board;
  const mark = rowMark(row, language, view.chineseScript);
  if (!mark) return [];
  const room = Math.floor(width * (1 - DESTINATION_SHARE_KEPT));
  return [...new Set([mark.full, mark.compact])]
    .filter((text) => painter.fits(text, room, layout.fonts))
    .map((text) => ({ text, colour: mark.colour }));
}

/**
 * Plans one line of a row. The mark goes at the right end of the destination,
 * next to the time, in its full form or its compact one; it gives way when it
 * would cut the name inside a word that fits whole without it, or leave it
 * nothing but an ellipsis. `name` null: the line has a time (and mark) but no
 * name of its own.
 */
export function planLine(
  board: Board,
  row: BoardRow,
  slots: LineSlots,
  language: Language,
  name: string | null,
  colour: number,
): LinePlan {
  const { view, layout, painter } = board;
  const fonts = layout.fonts;
  const time = planTime(board, row, slots, language);
  // The gutter between name and time stays, wherever the time cell begins.
  const gutter = slots.time.x - (slots.destination.x + slots.destination.width);
  const timeLeft = Math.min(slots.time.x, ...time.map((p) => p.rect.x));
  const area = { ...slots.destination, width: timeLeft - gutter - slots.destination.x };
  const plan: LinePlan = { time, mark: null, destination: null };
  if (area.width <= 0) return plan;
  const named = name?.trim() ? name : null;
  const table = view.abbreviations ?? [];
  const fit = (width: number): string =>
    named === null ? '' : fitDestination(named, row.route, width, table, painter, fonts);
  const atWord = (width: number): string | null =>
    named === null ? '' : fitDestinationAtWord(named, row.route, width, table, painter, fonts);
  let width = area.width;
  let text = fit(width);
  // Without the mark, would the name still need a cut inside a word? Then the mark costs nothing more.
  const cutAnyway = atWord(width) === null;
  const space = pieceGap(layout.lineHeight);
  // A narrow gutter alone runs "1 stop" into "Arriving": keep a space's width from the time.
  const fromTime = Math.max(0, space - gutter);
  for (const mark of markFor(board, row, area.width, language)) {
    const markWidth = painter.width(mark.text, fonts);
    const left = width - markWidth - fromTime - space;
    const beside = cutAnyway ? fit(left) : atWord(left);
    if (named !== null && (beside === null || beside === '' || beside === ELLIPSIS)) continue;
    const x = area.x + area.width - fromTime - markWidth;
    plan.mark = { text: mark.text, rect: { ...area, x, width: markWidth }, colour: mark.colour };
    [width, text] = [left, beside ?? ''];
    break;
  }
  if (text) plan.destination = { text, rect: { ...area, width }, colour };
  return plan;
}

function drawPlan(board: Board, plan: LinePlan): void {
  const { painter, layout } = board;
  for (const piece of plan.time) {
    painter.draw(piece.text, piece.rect, piece.colour, layout.fonts, 'right');
  }
  if (plan.mark) {
    const { text, rect, colour } = plan.mark;
    painter.draw(text, rect, colour, layout.fonts, 'right');
  }
  if (plan.destination) {
    const { text, rect, colour } = plan.destination;
    painter.draw(text, rect, colour, layout.fonts);
  }
}

/** Every line of the row in slot `i`: its own language's, and English under it when bilingual. */
export function planRow(board: Board, i: number): LinePlan[] {
  const { view, layout } = board;
  const slot = layout.rows[i];
  const row = view.rows[i];
  if (!slot || !row) return [];
  const cancelled = row.source === 'cancelled';
  const name = localized(row.headsign, view.language);
  const colour = cancelled ? COLOURS.cancelled : COLOURS.destination;
  const plans = [planLine(board, row, slot, view.language, name, colour)];
  if (slot.secondLine && slot.secondTime && view.language !== 'en') {
    // English under the Chinese; the name only when the first line did not already show it.
    const english = row.headsign.zh?.trim() ? row.headsign.en : null;
    const second = { destination: slot.secondLine, time: slot.secondTime };
    plans.push(planLine(board, row, second, 'en', english, COLOURS.secondLine));
  }
  return plans;
}

export function drawDepartures(board: Board): void {
  const { view, layout, painter } = board;
  layout.rows.forEach((slot, i) => {
    const row = view.rows[i];
    if (!row) return;
    const route = painter.truncate(row.route.trim(), slot.route.width, layout.fonts);
    painter.draw(route, slot.route, COLOURS.route, layout.fonts);
    for (const plan of planRow(board, i)) drawPlan(board, plan);
  });
}
