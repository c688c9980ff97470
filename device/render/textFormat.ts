/**
 * The words and numbers passengers read, per page language. Pure: time comes
 * from the view, never from the clock.
 */
import type { LocalizedText } from '../../shared';
import type { BoardRow } from './boardView';
import { Colour } from './frame';

export type Language = 'zh' | 'en';

interface PageStrings {
  now: string;
  minutes(n: number): string;
  scheduled: string;
  noDepartures: string;
  /** Nothing known yet (first start, or a cache that had to be set aside): data is on its way. */
  updating: string;
}

/** Short forms: the time column holds at most "99 min" / "99分". */
const STRINGS: Record<Language, PageStrings> = {
  en: {
    now: 'now',
    minutes: (n) => `${n} min`,
    scheduled: 'Scheduled',
    noDepartures: 'No departures',
    updating: 'Updating…',
  },
  zh: {
    now: '即将',
    minutes: (n) => `${n}分`,
    scheduled: '时刻表',
    noDepartures: '暂无班次信息',
    updating: '正在更新…',
  },
};

/** Beyond this a countdown stops helping; the live clock time is shown instead. */
export const MAX_COUNTDOWN_MINUTES = 99;

export function pageStrings(language: Language): PageStrings {
  return STRINGS[language];
}

/** Chinese on Chinese pages when the agency gave it, English otherwise. */
export function localized(text: LocalizedText, language: Language): string {
  const zh = text.zh?.trim();
  return language === 'zh' && zh ? zh : text.en.trim();
}

/** Whole minutes left, rounded down, so "1 min" never shows for a bus already leaving. */
export function minutesUntil(time: number, now: number): number {
  return Math.max(0, Math.floor((time - now) / 60));
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

function clockFormat(timezone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timezone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-GB', {
        timeZone: timezone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      // A misconfigured zone must not blank the sign; UTC is at least a real clock.
      format = clockFormat('UTC');
    }
    clockFormats.set(timezone, format);
  }
  return format;
}

/** "HH:MM" of an epoch-seconds instant in the given IANA zone. */
export function clockText(epochSeconds: number, timezone: string): string {
  const parts = clockFormat(timezone).formatToParts(new Date(epochSeconds * 1000));
  const hour = parts.find((p) => p.type === 'hour')?.value ?? '00';
  const minute = parts.find((p) => p.type === 'minute')?.value ?? '00';
  return `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
}

export interface TimeCell {
  text: string;
  colour: number;
}

/** Live rows count down in green; scheduled rows show their clock time in amber. */
export function departureTime(
  row: BoardRow,
  now: number,
  timezone: string,
  language: Language,
): TimeCell {
  if (!row.realtime) return { text: clockText(row.time, timezone), colour: Colour.amber };
  const minutes = minutesUntil(row.time, now);
  const strings = STRINGS[language];
  if (minutes === 0) return { text: strings.now, colour: Colour.green };
  if (minutes > MAX_COUNTDOWN_MINUTES) {
    return { text: clockText(row.time, timezone), colour: Colour.green };
  }
  return { text: strings.minutes(minutes), colour: Colour.green };
}
