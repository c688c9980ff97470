/**
 * Splits passenger text into script runs, so each run gets the face that draws it
 * crisply: CJK in the bitmap face, everything else (digits included) in the bold
 * Latin face. Neither face is left to fall back on its own, since a fallback face
 * would come out antialiased.
 */

export type Script = 'latin' | 'cjk';

export interface TextRun {
  text: string;
  script: Script;
}

const CJK =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
/** Spaces and ASCII-ish punctuation read the same in either face: keep them with their neighbour. */
const NEUTRAL = /^[\s\p{P}\p{S}]$/u;

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** User-perceived characters, so truncation never splits an accent from its letter. */
export function graphemes(text: string): string[] {
  return Array.from(graphemeSegmenter.segment(text), (s) => s.segment);
}

export function isCjk(grapheme: string): boolean {
  return CJK.test(grapheme);
}

function scriptOf(grapheme: string): Script | null {
  if (isCjk(grapheme)) return 'cjk';
  return NEUTRAL.test(grapheme) ? null : 'latin';
}

export function splitRuns(text: string): TextRun[] {
  const runs: TextRun[] = [];
  let pending = ''; // neutral characters before the first run is known
  for (const g of graphemes(text)) {
    const script = scriptOf(g);
    const last = runs[runs.length - 1];
    if (script === null) {
      if (last) last.text += g;
      else pending += g;
    } else if (last && last.script === script) {
      last.text += g;
    } else {
      runs.push({ text: pending + g, script });
      pending = '';
    }
  }
  if (pending) runs.push({ text: pending, script: 'latin' });
  return runs;
}
