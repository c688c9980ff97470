/**
 * The time column sized from what every row must be able to hold, measured
 * with the profile's own faces rather than guessed: each countdown ("60 min",
 * "60分钟") and the widest clock time, in both languages. Anything wider that
 * only some rows hold, a status word ("Cancelled", "Boarding") or a grouped
 * row's second time ("4, 26 min"), takes room from its own row's destination
 * when it comes (see departureRows.ts), so one rare word does not narrow every
 * name on the board.
 */
import { MAX_COUNTDOWN_MINUTES, pageStrings, type Language } from './textFormat';
import type { Measure } from './timeCell';

const LANGUAGES: readonly Language[] = ['en', 'zh'];

/** Digits each place of "HH:MM" can hold; the widest of each gives the widest clock. */
const CLOCK_PLACES = ['012', '0123456789', ':', '012345', '0123456789'] as const;

function widest(texts: readonly string[], measure: Measure): string {
  let best = texts[0] ?? '';
  let bestWidth = -1;
  for (const text of texts) {
    const width = measure(text);
    if (width > bestWidth) [best, bestWidth] = [text, width];
  }
  return best;
}

export function widestClock(measure: Measure): string {
  return CLOCK_PLACES.map((place) => widest([...place], measure)).join('');
}

/** Pixels the column needs. */
export function measureTimeColumn(measure: Measure): number {
  const texts = [widestClock(measure)];
  for (const language of LANGUAGES) {
    const strings = pageStrings(language);
    for (let n = 1; n <= MAX_COUNTDOWN_MINUTES; n++) texts.push(strings.minutes(n).full);
  }
  return Math.max(...texts.map(measure));
}
