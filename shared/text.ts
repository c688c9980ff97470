/**
 * What passenger text may contain. Bidirectional controls can make a sign show
 * words in another order than the operator approved (the "Trojan Source"
 * trick), and NUL or other control characters are shown differently by every
 * renderer, log and database. One function decides, used by the API, the
 * codec (both directions) and the GTFS import, so every side agrees.
 */

/**
 * C0 controls (tab and line breaks included: a sign line is one line), DEL,
 * C1 controls, bidi embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069), the implicit marks (U+200E, U+200F, U+061C), and the line
 * and paragraph separators (U+2028, U+2029).
 */
const FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'gu');

/** The first forbidden character, described for an error message; undefined when the text is clean. */
export function textProblem(text: string): string | undefined {
  const match = FORBIDDEN.exec(text);
  if (!match) return undefined;
  const code = (match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  // eslint-disable-next-line no-control-regex -- as above
  const kind = /[\u0000-\u001f\u007f-\u009f]/u.test(match[0])
    ? 'control character'
    : 'bidirectional control';
  return `${kind} U+${code} at position ${match.index} is not allowed in sign text`;
}

/** Line breaks and tabs: between two words they become a space, so the words stay apart. */
const BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/gu;

/** The text without forbidden characters, and how many were removed (for a warning). */
export function stripForbidden(text: string): { text: string; removed: number } {
  let removed = 0;
  const count = (match: string) => {
    removed += match.length;
    return '';
  };
  const clean = text
    .replace(BREAKS, (match) => `${count(match)} `)
    .replace(FORBIDDEN_ALL, count)
    .replace(/ {2,}/gu, (spaces) => (removed > 0 ? ' ' : spaces))
    .trim();
  return { text: removed > 0 ? clean : text, removed };
}
