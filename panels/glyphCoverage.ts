/**
 * Which characters a panel's fonts can draw. The manager warns an operator
 * when an announcement holds characters some sign cannot show; the renderer
 * replaces them, so glass never shows a box or a fallback face's blur.
 * Reads the fonts' character maps with fontkit; answers are cached.
 */
import { existsSync } from 'node:fs';
import * as fontkit from 'fontkit';
import type { PanelFace, PanelFontSet, PanelProfile } from '../shared/panelProfile';

const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const CJK =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef]/u;
const NEUTRAL = /^[\s\p{P}\p{S}]$/u;
/** Joiners, variation selectors and the like draw nothing themselves. */
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{M}]/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;

/** Drawn in place of a character no face has. */
export const REPLACEMENT = '?';

export interface CoverageGap {
  profile: string;
  characters: string[];
}

type CharacterMap = { has(codePoint: number): boolean } | null;

export class GlyphCoverage {
  private readonly maps = new Map<string, CharacterMap>();
  private readonly answers = new Map<string, boolean>();

  /** False when a font file of the face is not on this machine (coverage unknown). */
  installed(face: PanelFace): boolean {
    return this.characterMap(face) !== null;
  }

  /** Whether `grapheme` is drawn crisply by the face its script gets in `fonts`. */
  drawable(grapheme: string, fonts: PanelFontSet): boolean {
    const key = `${fonts.latin.file}|${fonts.latin.family}|${fonts.cjk.file}|${fonts.cjk.family}|${grapheme}`;
    let answer = this.answers.get(key);
    if (answer === undefined) {
      answer = this.check(grapheme, fonts);
      if (this.answers.size > 50_000) this.answers.clear();
      this.answers.set(key, answer);
    }
    return answer;
  }

  /** Characters of `text` that some font size of the profile cannot draw, each once. */
  missing(text: string, profile: PanelProfile): string[] {
    const out = new Set<string>();
    for (const { segment } of graphemeSegmenter.segment(text)) {
      if (/^\s+$/u.test(segment)) continue;
      for (const fonts of Object.values(profile.fonts)) {
        if (!this.drawable(segment, fonts)) out.add(segment);
      }
    }
    return [...out];
  }

  /** Gaps per profile for every text given, profiles without gaps left out. */
  gaps(texts: string[], profiles: PanelProfile[]): CoverageGap[] {
    return profiles
      .map((profile) => ({
        profile: profile.id,
        characters: [...new Set(texts.flatMap((t) => this.missing(t, profile)))],
      }))
      .filter((gap) => gap.characters.length > 0);
  }

  private check(grapheme: string, fonts: PanelFontSet): boolean {
    const points = [...grapheme]
      .filter((c) => !IGNORABLE.test(c))
      .map((c) => c.codePointAt(0) ?? 0);
    if (points.length === 0) return true;
    const faces = CJK.test(grapheme)
      ? [fonts.cjk]
      : NEUTRAL.test(grapheme)
        ? [fonts.latin, fonts.cjk]
        : [fonts.latin];
    return faces.some((face) => {
      const map = this.characterMap(face);
      // A face not installed here: trust the profile rather than warn about everything.
      return map === null || points.every((p) => map.has(p));
    });
  }

  private characterMap(face: PanelFace): CharacterMap {
    const key = `${face.file}|${face.family}`;
    if (this.maps.has(key)) return this.maps.get(key) ?? null;
    let map: CharacterMap = null;
    if (existsSync(face.file)) {
      const opened = fontkit.openSync(face.file);
      const font =
        'fonts' in opened
          ? (opened.fonts.find((f) => f.familyName === face.family) ?? opened.fonts[0])
          : opened;
      if (font) map = { has: (p) => font.hasGlyphForCodePoint(p) };
    }
    this.maps.set(key, map);
    return map;
  }
}

/**
 * The text with every character the fonts cannot draw replaced: pictographs
 * (emoji) dropped, anything else shown as REPLACEMENT.
 */
export function replaceMissing(text: string, canDraw: (grapheme: string) => boolean): string {
  let out = '';
  let changed = false;
  for (const { segment } of graphemeSegmenter.segment(text)) {
    if (/^\s+$/u.test(segment) || canDraw(segment)) {
      out += segment;
      continue;
    }
    changed = true;
    if (!PICTOGRAPH.test(segment)) out += REPLACEMENT;
  }
  return changed ? out.replace(/\s{2,}/g, ' ').trim() : text;
}
