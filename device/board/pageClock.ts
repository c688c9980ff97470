/**
 * Which language page is up. Derived from wall-clock time alone, so every sign
 * at a stop flips language together and a restart does not reset the cycle.
 */
export type PageLanguage = 'zh' | 'en';

/** Index of the page showing at nowMs; pages are pageSeconds long, counted from the epoch. */
export function pageIndexAt(nowMs: number, pageSeconds: number): number {
  const pageMs = Math.max(1, pageSeconds) * 1000;
  return Math.floor(nowMs / pageMs);
}

/** Even pages are Chinese, odd pages English. */
export function pageLanguageAt(nowMs: number, pageSeconds: number): PageLanguage {
  return pageIndexAt(nowMs, pageSeconds) % 2 === 0 ? 'zh' : 'en';
}

/** Milliseconds until the next page starts, for callers that want to flip exactly on time. */
export function msUntilNextPage(nowMs: number, pageSeconds: number): number {
  const pageMs = Math.max(1, pageSeconds) * 1000;
  return pageMs - (((nowMs % pageMs) + pageMs) % pageMs);
}
