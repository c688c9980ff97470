import type { AnnouncementData, LocalizedText } from '../../shared';

/** One departure line as the passenger reads it. */
export interface BoardRow {
  route: string;
  headsign: LocalizedText;
  /** Departure, epoch seconds: predicted when realtime, else scheduled. */
  time: number;
  realtime: boolean;
}

/**
 * Everything a frame depends on. Rendering is a pure function of this value,
 * so the same view always gives the same pixels (golden tests, references).
 */
export interface BoardView {
  width: number;
  height: number;
  /** Which language this page shows; the sign alternates pages. */
  language: 'zh' | 'en';
  /** Wall-clock now, epoch seconds, for "in N min" and the clock. */
  now: number;
  /** IANA zone the clock and scheduled times are shown in. */
  timezone: string;
  /** live: predictions from the manager; scheduled: from the offline cache; none: nothing known. */
  mode: 'live' | 'scheduled' | 'none';
  /** Set when the sign knows nothing yet (no config): the board says it is updating. */
  updating?: true;
  stopName?: LocalizedText;
  rows: BoardRow[];
  announcement?: Pick<AnnouncementData, 'text' | 'priority'>;
}
