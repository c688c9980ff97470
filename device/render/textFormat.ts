/**
 * The words and numbers passengers read, per page language, each in a full
 * and a compact form for small panels. Pure: time comes from the view, never
 * from the clock. The countdown grammar follows transit practice (MBTA's
 * real-time display guidelines): "Arriving" at 30 s or less, then whole
 * minutes up to 60, then a clock time.
 */
import type { LocalizedText } from '../../shared';
import type { BoardNotice, BoardRow } from './boardView';
import { Colour } from './frame';
import { inScript, type ChineseScript } from './traditional';

export type Language = 'zh' | 'en';

/** A message in its full form and the short one used when the full one does not fit. */
export interface Phrase {
  full: string;
  compact: string;
}

export interface PageStrings {
  arriving: Phrase;
  minutes(n: number): Phrase;
  cancelled: Phrase;
  scheduledMark: Phrase;
  stopsAway(n: number): Phrase;
  atStop: Phrase;
  full: Phrase;
  /** Status line when the board comes from the sign's own timetable. */
  scheduled: Phrase;
  /** Status line when live rows stopped being confirmed. */
  notUpdating: Phrase;
  noDepartures: Phrase;
  /** Nothing known yet (first start, or a cache that had to be set aside): data is on its way. */
  updating: Phrase;
  serviceEnded: Phrase;
  firstBus(clock: string, tomorrow: boolean): Phrase;
  stopMissing: Phrase;
}

const p = (full: string, compact: string = full): Phrase => ({ full, compact });

const STRINGS: Record<Language, PageStrings> = {
  en: {
    arriving: p('Arriving', 'Arr'),
    minutes: (n) => p(`${n} min`, `${n}m`),
    cancelled: p('Cancelled', 'Canc'),
    scheduledMark: p('sched', 's'),
    stopsAway: (n) => p(n === 1 ? '1 stop' : `${n} stops`, `${n} st`),
    atStop: p('Boarding', 'Brd'),
    full: p('Full', 'Full'),
    scheduled: p('Scheduled', 'Sched'),
    notUpdating: p('Times not updating', 'Not live'),
    noDepartures: p('No departures'),
    updating: p('Updating…'),
    serviceEnded: p('Service has ended for today', 'Service ended'),
    firstBus: (clock, tomorrow) =>
      p(tomorrow ? `First bus tomorrow ${clock}` : `Next bus ${clock}`, `First bus ${clock}`),
    stopMissing: p('This stop is not in the timetable', 'Stop not in service'),
  },
  zh: {
    arriving: p('进站'),
    minutes: (n) => p(`${n}分钟`, `${n}分`),
    cancelled: p('取消'),
    scheduledMark: p('计划', '计'),
    stopsAway: (n) => p(`${n}站`),
    atStop: p('到站'),
    full: p('满员', '满'),
    scheduled: p('时刻表'),
    notUpdating: p('实时信息未更新', '未更新'),
    noDepartures: p('暂无班次信息'),
    updating: p('正在更新…'),
    serviceEnded: p('今日服务已结束', '已收班'),
    firstBus: (clock, tomorrow) =>
      p(tomorrow ? `明日首班 ${clock}` : `下一班 ${clock}`, `首班 ${clock}`),
    stopMissing: p('本站不在时刻表内', '本站停用'),
  },
};

/** The sign's own Chinese words in Traditional characters; the feed's text is never converted. */
function traditional(zh: PageStrings): PageStrings {
  const t = (phrase: Phrase): Phrase => ({
    full: inScript(phrase.full, 'traditional'),
    compact: inScript(phrase.compact, 'traditional'),
  });
  return {
    arriving: t(zh.arriving),
    minutes: (n) => t(zh.minutes(n)),
    cancelled: t(zh.cancelled),
    scheduledMark: t(zh.scheduledMark),
    stopsAway: (n) => t(zh.stopsAway(n)),
    atStop: t(zh.atStop),
    full: t(zh.full),
    scheduled: t(zh.scheduled),
    notUpdating: t(zh.notUpdating),
    noDepartures: t(zh.noDepartures),
    updating: t(zh.updating),
    serviceEnded: t(zh.serviceEnded),
    firstBus: (clock, tomorrow) => t(zh.firstBus(clock, tomorrow)),
    stopMissing: t(zh.stopMissing),
  };
}

const TRADITIONAL_ZH = traditional(STRINGS.zh);

/** At or under this many seconds away, a bus is "Arriving". */
export const ARRIVING_SECONDS = 30;
/** Beyond this a countdown stops helping; the clock time is shown instead. */
export const MAX_COUNTDOWN_MINUTES = 60;

/** The built-in words of a page; Chinese in the script the sign is set to. */
export function pageStrings(language: Language, script: ChineseScript = 'simplified'): PageStrings {
  return language === 'zh' && script === 'traditional' ? TRADITIONAL_ZH : STRINGS[language];
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
  const hour = parts.find((part) => part.type === 'hour')?.value ?? '00';
  const minute = parts.find((part) => part.type === 'minute')?.value ?? '00';
  return `${hour.padStart(2, '0')}:${minute.padStart(2, '0')}`;
}

export interface TimeCell extends Phrase {
  colour: number;
  /** Set on a countdown of one minute or more: a second time may share its unit. */
  minutes?: number;
}

/** What a live row's countdown reads, before the hold; undefined past the countdown range. */
export function countdownMinutes(time: number, now: number): number | undefined {
  if (time - now <= ARRIVING_SECONDS) return 0;
  const minutes = minutesUntil(time, now);
  return minutes > MAX_COUNTDOWN_MINUTES ? undefined : minutes;
}

/**
 * The time column. Live rows count down in green (grey when stale); scheduled
 * rows show their clock time in amber; cancelled rows say so in red. Without a
 * trusted clock a countdown would be a guess, so live rows show clock times.
 */
export function departureTime(
  row: BoardRow,
  now: number,
  timezone: string,
  language: Language,
  clockSynced = true,
  script: ChineseScript = 'simplified',
): TimeCell {
  const strings = pageStrings(language, script);
  const clock = (colour: number): TimeCell => ({ ...p(clockText(row.time, timezone)), colour });
  if (row.source === 'cancelled') return { ...strings.cancelled, colour: Colour.red };
  if (row.source === 'scheduled') return clock(Colour.amber);
  const colour = row.stale ? Colour.grey : Colour.green;
  if (!clockSynced) return clock(colour);
  if (row.atStop) return { ...strings.atStop, colour };
  const minutes = row.heldMinutes ?? countdownMinutes(row.time, now);
  if (minutes === undefined) return clock(colour);
  if (minutes === 0) return { ...strings.arriving, colour };
  return { ...strings.minutes(minutes), colour, minutes };
}

/** The small mark after a destination: "sched" on timetable rows, else what the vehicle tells. */
export function rowMark(
  row: BoardRow,
  language: Language,
  script: ChineseScript = 'simplified',
): (Phrase & { colour: number }) | null {
  const strings = pageStrings(language, script);
  if (row.source === 'scheduled') return { ...strings.scheduledMark, colour: Colour.amber };
  if (row.source !== 'live') return null;
  if (row.crowding === 'full') return { ...strings.full, colour: Colour.red };
  if (row.stopsAway !== undefined && row.stopsAway > 0 && !row.atStop) {
    return { ...strings.stopsAway(row.stopsAway), colour: Colour.grey };
  }
  return null;
}

export function noticeText(
  notice: BoardNotice,
  language: Language,
  timezone: string,
  script: ChineseScript = 'simplified',
): Phrase {
  const strings = pageStrings(language, script);
  switch (notice.kind) {
    case 'service-ended':
      return strings.serviceEnded;
    case 'first-bus':
      return strings.firstBus(clockText(notice.time, timezone), notice.tomorrow);
    case 'stop-missing':
      return strings.stopMissing;
  }
}
