/**
 * What the sign says when a passenger presses its button: the stop, each
 * route's next two departures, then the announcements, in Mandarin and then
 * in English. Pure: the same board always gives the same words.
 */
import type { AnnouncementData, LocalizedText } from '../../shared';
import type { BoardRow } from '../render/boardView';
import { clockText, countdownMinutes } from '../render/textFormat';
import { inScript, type ChineseScript } from '../render/traditional';

export interface SpeechBoard {
  stopName?: LocalizedText | undefined;
  /** Departures in time order; more than the glass may show. */
  rows: BoardRow[];
  mode: 'live' | 'scheduled' | 'none';
  announcements: Pick<AnnouncementData, 'text' | 'tts' | 'priority'>[];
  /** Epoch seconds. */
  now: number;
  timezone: string;
  /** Script of the sign's own Chinese words; feed names are spoken as given. */
  chineseScript?: ChineseScript;
  /** False when the sign cannot trust its clock: like the glass, it then says clock times. */
  clockSynced?: boolean;
}

export type SpokenLanguage = 'zh' | 'en';

export interface Utterance {
  language: SpokenLanguage;
  text: string;
}

/** Times read per route: the next one and the one after. */
const TIMES_PER_ROUTE = 2;

interface RouteGroup {
  route: string;
  headsign: LocalizedText;
  rows: BoardRow[];
}

function groupByRoute(rows: BoardRow[]): RouteGroup[] {
  const groups = new Map<string, RouteGroup>();
  for (const row of rows) {
    const key = `${row.route}\u0000${row.headsign.en}`;
    const group = groups.get(key) ?? { route: row.route.trim(), headsign: row.headsign, rows: [] };
    if (group.rows.length < TIMES_PER_ROUTE) group.rows.push(row);
    groups.set(key, group);
  }
  return [...groups.values()];
}

const zhName = (text: LocalizedText): string => text.zh?.trim() || text.en.trim();

/** The countdown as the glass shows it (held, Arriving), or undefined for a clock time. */
function spokenMinutes(row: BoardRow, board: SpeechBoard): number | undefined {
  if (row.source !== 'live' || board.clockSynced === false) return undefined;
  return row.heldMinutes ?? countdownMinutes(row.time, board.now);
}

function zhTime(row: BoardRow, board: SpeechBoard): string {
  if (row.source === 'cancelled') return '已取消';
  if (row.source === 'live' && row.atStop && board.clockSynced !== false) return '已到站';
  const minutes = spokenMinutes(row, board);
  if (minutes === undefined) {
    const [hour, minute] = clockText(row.time, board.timezone).split(':');
    const clock = `${Number(hour)}点${minute === '00' ? '整' : `${Number(minute)}分`}`;
    // On a live board a timetable time is said to be one.
    return row.source === 'scheduled' && board.mode === 'live' ? `计划${clock}` : clock;
  }
  return minutes === 0 ? '即将到站' : `${minutes}分钟`;
}

function enTime(row: BoardRow, board: SpeechBoard): string {
  if (row.source === 'cancelled') return 'cancelled';
  if (row.source === 'live' && row.atStop && board.clockSynced !== false) return 'at the stop now';
  const minutes = spokenMinutes(row, board);
  if (minutes === undefined) {
    const clock = `at ${clockText(row.time, board.timezone)}`;
    return row.source === 'scheduled' && board.mode === 'live'
      ? `${clock} by the timetable`
      : clock;
  }
  if (minutes === 0) return 'due now';
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

function spokenAnnouncement(
  a: SpeechBoard['announcements'][number],
  language: SpokenLanguage,
): string | undefined {
  const own = a.tts?.[language]?.trim();
  if (own) return own;
  const text = a.text[language]?.trim();
  return text || undefined;
}

export function speakBoard(board: SpeechBoard): Utterance[] {
  const groups = groupByRoute(board.rows);
  const zh: string[] = [];
  const en: string[] = [];
  const own = (text: string): string => inScript(text, board.chineseScript ?? 'simplified');
  if (board.stopName) {
    zh.push(`${own('本站')}，${zhName(board.stopName)}。`);
    en.push(`This is ${board.stopName.en.trim()}.`);
  }
  if (groups.length === 0) {
    zh.push(own('暂无班次信息。'));
    en.push('No departures known.');
  } else if (board.mode === 'scheduled') {
    zh.push(own('以下为时刻表时间。'));
    en.push('Timetable times, not live.');
  } else if (board.rows.some((row) => row.source === 'live' && row.stale)) {
    zh.push(own('实时信息未更新。'));
    en.push('Live times are not updating.');
  }
  for (const g of groups) {
    const zhTimes = g.rows.map((r) => own(zhTime(r, board))).join(own('，然后'));
    const enTimes = g.rows.map((r) => enTime(r, board)).join(', then ');
    zh.push(`${g.route}${own('路，开往')}${zhName(g.headsign)}，${zhTimes}。`);
    en.push(`Route ${g.route} to ${g.headsign.en.trim()}, ${enTimes}.`);
  }
  for (const a of board.announcements) {
    const zhText = spokenAnnouncement(a, 'zh');
    const enText = spokenAnnouncement(a, 'en');
    const urgent = a.priority === 'emergency';
    if (zhText) zh.push(`${own(urgent ? '紧急通告' : '通告')}：${zhText}`);
    if (enText) en.push(`${urgent ? 'Emergency notice' : 'Notice'}: ${enText}`);
  }
  return [
    { language: 'zh', text: zh.join('') },
    { language: 'en', text: en.join(' ') },
  ];
}
