/**
 * Line breaking for announcements: CJK may break between any two characters,
 * Latin only between words (a word wider than the line is split as a last resort).
 * When lines run out the last one ends in an ellipsis, so a passenger always
 * knows the message continues.
 */
import type { FontSet } from './fonts';
import type { TextPainter } from './textPainter';
import { graphemes, isCjk } from './textRuns';

export const ELLIPSIS = '…';

/** Punctuation that must not start a line; it stays with the character before it. */
const NO_LINE_START = /^[,.;:!?)\]}'"%，。、；：！？）」』】〉》”’…]$/u;

interface Unit {
  text: string;
  /** A space separated this unit from the previous one in the source. */
  spaced: boolean;
}

function units(paragraph: string): Unit[] {
  const out: Unit[] = [];
  let word = '';
  let spaced = false;
  const flushWord = (): void => {
    if (word) out.push({ text: word, spaced });
    word = '';
    spaced = false;
  };
  for (const g of graphemes(paragraph)) {
    const last = out[out.length - 1];
    if (/^\s+$/u.test(g)) {
      flushWord();
      spaced = out.length > 0;
    } else if (NO_LINE_START.test(g) && !word && last && !spaced) {
      last.text += g;
    } else if (isCjk(g)) {
      flushWord();
      out.push({ text: g, spaced });
      spaced = false;
    } else {
      word += g;
    }
  }
  flushWord();
  return out;
}

export function wrapText(
  text: string,
  maxWidth: number,
  maxLines: number,
  painter: TextPainter,
  fonts: FontSet,
): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = '';
    for (const unit of units(paragraph)) {
      const joined = line && unit.spaced ? `${line} ${unit.text}` : line + unit.text;
      if (painter.fits(joined, maxWidth, fonts)) {
        line = joined;
        continue;
      }
      if (line) lines.push(line);
      line = unit.text;
      // A single word wider than the line: split it where it must, keep the rest going.
      while (!painter.fits(line, maxWidth, fonts)) {
        const head = painter.cutWithSuffix(line, maxWidth, fonts, '');
        if (!head) break; // not even one character fits; give up on this word
        lines.push(head);
        line = line.slice(head.length).trimStart();
      }
    }
    if (line.trim()) lines.push(line);
  }
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  const last = kept[maxLines - 1] ?? '';
  kept[maxLines - 1] = painter.cutWithSuffix(last, maxWidth, fonts, ELLIPSIS);
  return kept;
}
