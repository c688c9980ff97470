/**
 * Fitting a name into its column: whole words and an ellipsis, never a cut
 * through a word or a glyph. CJK names have no spaces and may end after any
 * character. A single word too long for the column is the last resort: it is
 * cut at a character, still with the ellipsis.
 */
import type { FontSet } from './fonts';
import type { TextPainter } from './textPainter';
import { graphemes, isCjk } from './textRuns';
import { ELLIPSIS } from './wrap';

/** Places a name may end before the ellipsis: after a word, or after any CJK character. */
function breakPoints(text: string): number[] {
  const chars = graphemes(text);
  const points: number[] = [];
  for (let i = 1; i < chars.length; i++) {
    const before = chars[i - 1]!;
    const at = chars[i]!;
    if (/\s/u.test(at) || isCjk(before) || isCjk(at) || /[-/,]/u.test(before)) points.push(i);
  }
  return points;
}

export function shortenToFit(
  text: string,
  maxWidth: number,
  painter: TextPainter,
  fonts: FontSet,
): string {
  return (
    shortenAtWord(text, maxWidth, painter, fonts) ??
    painter.cutWithSuffix(text.trim(), maxWidth, fonts, ELLIPSIS)
  );
}

/** The name whole, or ending at a word with an ellipsis; null when only a cut inside a word fits. */
export function shortenAtWord(
  text: string,
  maxWidth: number,
  painter: TextPainter,
  fonts: FontSet,
): string | null {
  const trimmed = text.trim();
  if (painter.fits(trimmed, maxWidth, fonts)) return trimmed;
  const chars = graphemes(trimmed);
  const candidate = (n: number): string =>
    chars
      .slice(0, n)
      .join('')
      .replace(/[\s\-/,.]+$/u, '') + ELLIPSIS;
  const points = breakPoints(trimmed);
  // Widths grow with length, so the longest fitting break point is found by binary search.
  let lo = -1;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi + 1) / 2);
    if (painter.fits(candidate(points[mid]!), maxWidth, fonts)) lo = mid;
    else hi = mid - 1;
  }
  return lo >= 0 ? candidate(points[lo]!) : null;
}
