/**
 * Feed text that ends up on the glass is cleaned on the way in: a control or
 * bidi character is removed with a warning, so the feed still imports and
 * every message built from it passes the codec's check (shared/text.ts).
 */
import { stripForbidden } from '../../shared';
import type { ImportWarnings } from './importWarnings';

export function signText(text: string, where: string, warnings: ImportWarnings): string {
  const { text: clean, removed } = stripForbidden(text);
  if (removed > 0) warnings.add(`${where}: ${removed} control or bidi character(s) removed`);
  return clean;
}
