/**
 * What a row's time cell says, and how wide it is: its full form where the
 * glass has room, else its compact one. A row grouped by route also carries
 * the route's next time after it ("4, 26 min"), each time in its own colour.
 */
import type { BoardRow } from './boardView';
import type { Language, TimeCell } from './textFormat';
import { departureTime } from './textFormat';
import type { ChineseScript } from './traditional';

/** One run of the cell in one colour; the cell's runs are drawn right-aligned, a gap apart. */
export interface TimePiece {
  text: string;
  colour: number;
}

export interface TimeContext {
  now: number;
  timezone: string;
  language: Language;
  clockSynced: boolean;
  script: ChineseScript;
}

export type Measure = (text: string) => number;

/** Pixels between the two times of a grouped row: a quarter of the line, about a space. */
export const pieceGap = (lineHeight: number): number => Math.ceil(lineHeight / 4);

type Form = 'full' | 'compact';

/** "4," then "26 min": two countdowns share the unit; anything else keeps its own words. */
function pair(first: TimeCell, firstForm: Form, later: TimeCell, laterForm: Form): TimePiece[] {
  const sharesUnit =
    first.minutes !== undefined && later.minutes !== undefined && first.colour === later.colour;
  const lead = sharesUnit ? String(first.minutes) : first[firstForm];
  return [
    { text: `${lead},`, colour: first.colour },
    { text: later[laterForm], colour: later.colour },
  ];
}

/** The ways to write this row's time cell, most complete first. */
export function timeChoices(row: BoardRow, context: TimeContext): TimePiece[][] {
  const { now, timezone, language, clockSynced, script } = context;
  const first = departureTime(row, now, timezone, language, clockSynced, script);
  const singles: TimePiece[][] = [
    [{ text: first.full, colour: first.colour }],
    [{ text: first.compact, colour: first.colour }],
  ];
  const next = row.later?.[0];
  if (!next) return singles;
  const laterRow: BoardRow = { route: row.route, headsign: row.headsign, ...next };
  const later = departureTime(laterRow, now, timezone, language, clockSynced, script);
  return [
    pair(first, 'full', later, 'full'),
    pair(first, 'full', later, 'compact'),
    pair(first, 'compact', later, 'compact'),
    ...singles,
  ];
}

export function piecesWidth(pieces: TimePiece[], measure: Measure, gap: number): number {
  return pieces.reduce((sum, piece, i) => sum + measure(piece.text) + (i > 0 ? gap : 0), 0);
}

/** The first choice that fits `maxWidth`, or null when not even the last one does. */
export function fitTime(
  choices: TimePiece[][],
  maxWidth: number,
  measure: Measure,
  gap: number,
): { pieces: TimePiece[]; width: number } | null {
  for (const pieces of choices) {
    const width = piecesWidth(pieces, measure, gap);
    if (width <= maxWidth) return { pieces, width };
  }
  return null;
}
