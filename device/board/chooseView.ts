/**
 * Decides what the sign shows. Pure: everything it depends on is passed in,
 * so every fallback (live → scheduled → nothing) is testable without a broker.
 */
import type {
  AnnouncementData,
  ArrivalsData,
  DeviceConfigData,
  LocalizedText,
  ScheduledDeparture,
} from '../../shared';
import type { BoardRow, BoardView } from '../render/boardView';
import { layoutFor } from '../render/layout';
import type { PageLanguage } from './pageClock';

/** A bus that left moments ago still shows briefly: passengers may be running for it. */
export const DEPARTED_GRACE_SECONDS = 30;

export interface ViewInputs {
  /** Epoch seconds. */
  now: number;
  config: DeviceConfigData | null;
  connected: boolean;
  managerOnline: boolean;
  lastArrivals: ArrivalsData | null;
  /** Upcoming departures from the offline cache, in time order. */
  cachedDepartures: ScheduledDeparture[];
  /** Newest first; expired ones may be included, they are filtered here. */
  announcements: AnnouncementData[];
  /** The page the clock says is up; falls back to English when nothing has Chinese. */
  language: PageLanguage;
  width: number;
  height: number;
  staleAfterSeconds: number;
}

/** Departure rows the renderer has room for; its layout table is the one source of truth. */
export function rowsThatFit(width: number, height: number): number {
  return layoutFor(width, height).rows.length;
}

const PRIORITY_RANK: Record<AnnouncementData['priority'], number> = {
  emergency: 3,
  warning: 2,
  info: 1,
};

/** Highest priority wins; among equals the newest (first in the input) wins. */
export function pickAnnouncement(
  announcements: AnnouncementData[],
  now: number,
): AnnouncementData | undefined {
  let best: AnnouncementData | undefined;
  for (const a of announcements) {
    const started = a.startsAt === undefined || a.startsAt <= now;
    if (!started || a.expiresAt <= now) continue;
    if (!best || PRIORITY_RANK[a.priority] > PRIORITY_RANK[best.priority]) best = a;
  }
  return best;
}

export function isLiveFresh(inputs: ViewInputs): boolean {
  const { lastArrivals, config, now } = inputs;
  if (!inputs.connected || !inputs.managerOnline || !lastArrivals || !config) return false;
  if (lastArrivals.stopId !== config.stopId) return false;
  return now - lastArrivals.generatedAt <= inputs.staleAfterSeconds;
}

function liveRows(arrivals: ArrivalsData, now: number, limit: number): BoardRow[] {
  return arrivals.arrivals
    .filter((a) => a.time >= now - DEPARTED_GRACE_SECONDS)
    .sort((a, b) => a.time - b.time)
    .slice(0, limit)
    .map((a) => ({ route: a.route, headsign: a.headsign, time: a.time, realtime: a.realtime }));
}

function scheduledRows(departures: ScheduledDeparture[], now: number, limit: number): BoardRow[] {
  return departures
    .filter((d) => d.time >= now)
    .sort((a, b) => a.time - b.time)
    .slice(0, limit)
    .map((d) => ({ route: d.route, headsign: d.headsign, time: d.time, realtime: false }));
}

const hasZh = (text: LocalizedText | undefined): boolean => Boolean(text?.zh);

export function chooseView(inputs: ViewInputs): BoardView {
  const { now, config, width, height } = inputs;
  const limit = rowsThatFit(width, height);
  let mode: BoardView['mode'] = 'none';
  let rows: BoardRow[] = [];
  if (config && inputs.lastArrivals && isLiveFresh(inputs)) {
    mode = 'live';
    rows = liveRows(inputs.lastArrivals, now, limit);
  } else if (config) {
    rows = scheduledRows(inputs.cachedDepartures, now, limit);
    if (rows.length > 0) mode = 'scheduled';
  }
  const picked = pickAnnouncement(inputs.announcements, now);
  const announcement = picked ? { text: picked.text, priority: picked.priority } : undefined;
  const stopName = config?.stopName;
  const anyZh =
    hasZh(stopName) || hasZh(announcement?.text) || rows.some((row) => hasZh(row.headsign));
  const view: BoardView = {
    width,
    height,
    language: inputs.language === 'zh' && anyZh ? 'zh' : 'en',
    now,
    timezone: config?.timezone ?? 'UTC',
    mode,
    rows,
  };
  if (!config) view.updating = true;
  if (stopName) view.stopName = stopName;
  if (announcement) view.announcement = announcement;
  return view;
}
