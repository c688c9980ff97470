import type { AnnouncementData, ArrivalSource, CrowdingLevel, LocalizedText } from '../../shared';
import type { ChineseScript } from './traditional';

/** One departure line as the passenger reads it. */
export interface BoardRow {
  route: string;
  headsign: LocalizedText;
  /** Departure, epoch seconds: predicted when live, else scheduled. */
  time: number;
  /** live rows count down; scheduled rows show a clock time and a mark; cancelled rows say so. */
  source: ArrivalSource;
  /** Trip id, so the countdown hold can follow a row from one second to the next. */
  tripId?: string;
  /** The prediction behind a live row has not been confirmed for too long. */
  stale?: boolean;
  stopsAway?: number;
  atStop?: boolean;
  crowding?: CrowdingLevel;
  /** Minutes the countdown hold keeps showing instead of a one-minute jump up. */
  heldMinutes?: number;
  /** Grouped by route: the same route's next departure after this one, as the glass shows it. */
  later?: LaterDeparture[];
}

/** A route's next departure after a grouped row's own: just what its time cell needs. */
export type LaterDeparture = Pick<BoardRow, 'time' | 'source' | 'stale' | 'heldMinutes'>;

/** A board-wide message in place of departure rows. */
export type BoardNotice =
  | { kind: 'service-ended' }
  | { kind: 'first-bus'; time: number; tomorrow: boolean }
  | { kind: 'stop-missing' };

/** An announcement on the glass: an operator's, or an alert from the agency's realtime feed. */
export type BoardAnnouncement = Pick<AnnouncementData, 'text' | 'priority'> & {
  source?: 'operator' | 'agency';
};

/**
 * Everything a frame depends on. Rendering is a pure function of this value,
 * so the same view always gives the same pixels (golden tests, references).
 */
export interface BoardView {
  width: number;
  height: number;
  /** Which language this page shows; the sign alternates pages. */
  language: 'zh' | 'en';
  /** Wall-clock now, epoch seconds, for countdowns and the clock. */
  now: number;
  /** IANA zone the clock and scheduled times are shown in. */
  timezone: string;
  /** live: the manager's board; scheduled: from the offline cache; none: nothing known. */
  mode: 'live' | 'scheduled' | 'none';
  /** Set when the sign knows nothing yet (no config): the board says it is updating. */
  updating?: true;
  stopName?: LocalizedText;
  /** The agency's abbreviations, for names that do not fit (panels/abbreviations/). */
  abbreviations?: readonly (readonly [long: string, short: string])[];
  rows: BoardRow[];
  /** Script of the sign's own Chinese words (feed text is shown as the feed gives it). */
  chineseScript?: ChineseScript;
  /** False when the sign cannot trust its clock: live rows then show clock times, not countdowns. */
  clockSynced?: boolean;
  notice?: BoardNotice;
  announcement?: BoardAnnouncement;
}
