/**
 * Decides what the sign shows. Pure: everything it depends on is passed in,
 * so every rule is testable without a broker. What wins the glass, highest
 * first: an operator's emergency; an agency alert or an operator's warning for
 * this stop; service ended / first bus; live countdowns; scheduled times.
 */
import type {
  AgencyAlert,
  AnnouncementData,
  ArrivalsData,
  DeviceConfigData,
  LocalizedText,
  ManagerHeartbeatData,
  ScheduledDeparture,
} from '../../shared';
import type { BoardAnnouncement, BoardNotice, BoardRow, BoardView } from '../render/boardView';
import { layoutFor } from '../render/layout';
import type { PageLanguage } from './pageClock';

/** A live bus stays briefly after its predicted time: it may still be at the door. */
export const DEPARTED_GRACE_SECONDS = 30;

/** A live row whose prediction is older than this is marked stale. */
export const PREDICTION_STALE_SECONDS = 90;

/** An empty board this far from the next timetabled bus says when service starts again. */
const FIRST_BUS_AFTER_SECONDS = 3 * 3600;

export interface ViewInputs {
  /** Epoch seconds. */
  now: number;
  config: DeviceConfigData | null;
  lastArrivals: ArrivalsData | null;
  /** The manager's latest heartbeat, when one arrived. */
  heartbeat: ManagerHeartbeatData | null;
  /** Upcoming departures from the offline cache, in time order. */
  cachedDepartures: ScheduledDeparture[];
  /** Whether the cache holds a timetable for this stop at all (empty means service ended). */
  scheduleKnown: boolean;
  /** Newest first; expired ones may be included, they are filtered here. */
  announcements: AnnouncementData[];
  agencyAlerts: AgencyAlert[];
  /** The page the clock says is up; falls back to English when nothing has Chinese. */
  language: PageLanguage;
  width: number;
  height: number;
  /** After this long without word from the manager, the sign shows its own timetable. */
  staleAfterSeconds: number;
  /** Rows to choose, when the glass pages through more than it shows at once. */
  rowLimit?: number;
  /** Live rows older than this are marked stale. */
  predictionStaleSeconds?: number;
  /** Whether the sign's clock can be trusted for countdowns. */
  clockSynced: boolean;
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

/** An agency alert as the glass shows it: the routes it concerns, then its header. */
export function alertAnnouncement(alert: AgencyAlert): BoardAnnouncement {
  const routes = alert.routes.join(' ');
  const prefix = (text: string, zh: boolean) =>
    routes === '' ? text : zh ? `${routes}路：${text}` : `${routes}: ${text}`;
  const text: LocalizedText = { en: prefix(alert.header.en, false) };
  if (alert.header.zh) text.zh = prefix(alert.header.zh, true);
  return { text, priority: 'warning', source: 'agency' };
}

/** Operator emergency > operator warning > agency alert > operator info. */
function pickGlassAnnouncement(inputs: ViewInputs): BoardAnnouncement | undefined {
  const picked = pickAnnouncement(inputs.announcements, inputs.now);
  const operator: BoardAnnouncement | undefined = picked
    ? { text: picked.text, priority: picked.priority, source: 'operator' }
    : undefined;
  if (operator && operator.priority !== 'info') return operator;
  const alert = inputs.agencyAlerts.find(
    (a) => a.activeUntil === undefined || a.activeUntil > inputs.now,
  );
  return alert ? alertAnnouncement(alert) : operator;
}

/** When the manager was last heard from, by its own account (epoch seconds). */
function lastHeard(inputs: ViewInputs): number {
  return Math.max(inputs.lastArrivals?.generatedAt ?? 0, inputs.heartbeat?.checkedAt ?? 0);
}

/** Header time of the newest feed vouched for, by the arrivals or by a later heartbeat. */
export function feedTime(inputs: ViewInputs): number | undefined {
  const fromArrivals = inputs.lastArrivals?.feedTimestamp;
  const fromHeartbeat = inputs.heartbeat?.feedTimestamp;
  if (fromArrivals === undefined) return undefined;
  return Math.max(fromArrivals, fromHeartbeat ?? 0);
}

/**
 * The manager's board is used while the manager has been heard from recently,
 * connected or not: a sign cut off keeps counting down from the epoch times it
 * has, marks them stale, and only then falls back to its own timetable.
 */
export function isManagerBoardUsable(inputs: ViewInputs): boolean {
  const { lastArrivals, config, now } = inputs;
  if (!lastArrivals || !config || lastArrivals.stopId !== config.stopId) return false;
  return now - lastHeard(inputs) <= inputs.staleAfterSeconds;
}

function managerRows(inputs: ViewInputs, limit: number): BoardRow[] {
  const { now } = inputs;
  const feed = feedTime(inputs);
  const staleAfter = inputs.predictionStaleSeconds ?? PREDICTION_STALE_SECONDS;
  // Predictions are as old as the feed they came from, and nobody vouches for them while unheard.
  const ageOfLive = Math.max(feed === undefined ? 0 : now - feed, now - lastHeard(inputs));
  return inputs
    .lastArrivals!.arrivals.filter((a) =>
      a.source === 'live' ? a.time >= now - DEPARTED_GRACE_SECONDS : a.time >= now,
    )
    .sort((a, b) => a.time - b.time)
    .slice(0, limit)
    .map((a) => {
      const row: BoardRow = {
        route: a.route,
        headsign: a.headsign,
        time: a.time,
        source: a.source,
        tripId: a.tripId,
      };
      if (a.source === 'live' && ageOfLive > staleAfter) row.stale = true;
      if (a.stopsAway !== undefined) row.stopsAway = a.stopsAway;
      if (a.atStop) row.atStop = true;
      if (a.crowding) row.crowding = a.crowding;
      return row;
    });
}

function scheduledRows(departures: ScheduledDeparture[], now: number, limit: number): BoardRow[] {
  return departures
    .filter((d) => d.time >= now)
    .sort((a, b) => a.time - b.time)
    .slice(0, limit)
    .map((d) => ({
      route: d.route,
      headsign: d.headsign,
      time: d.time,
      source: 'scheduled' as const,
      tripId: d.tripId,
    }));
}

const localDay = (epochSeconds: number, timezone: string): string => {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(epochSeconds * 1000);
  } catch {
    return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
  }
};

/** With nothing to show: service ended, or when the first bus comes. */
function emptyBoardNotice(inputs: ViewInputs, timezone: string): BoardNotice | undefined {
  if (!inputs.scheduleKnown) return undefined;
  const next = inputs.cachedDepartures.find((d) => d.time >= inputs.now);
  if (!next) return { kind: 'service-ended' };
  const tomorrow = localDay(next.time, timezone) !== localDay(inputs.now, timezone);
  if (!tomorrow && next.time - inputs.now < FIRST_BUS_AFTER_SECONDS) return undefined;
  return { kind: 'first-bus', time: next.time, tomorrow };
}

const hasZh = (text: LocalizedText | undefined): boolean => Boolean(text?.zh);

export function chooseView(inputs: ViewInputs): BoardView {
  const { now, config, width, height } = inputs;
  const limit = inputs.rowLimit ?? rowsThatFit(width, height);
  const timezone = config?.timezone ?? 'UTC';
  let mode: BoardView['mode'] = 'none';
  let rows: BoardRow[] = [];
  let notice: BoardNotice | undefined;
  if (config?.stopInFeed === false) {
    notice = { kind: 'stop-missing' };
  } else if (config && isManagerBoardUsable(inputs)) {
    mode = 'live';
    rows = managerRows(inputs, limit);
  } else if (config) {
    rows = scheduledRows(inputs.cachedDepartures, now, limit);
    if (rows.length > 0 || inputs.scheduleKnown) mode = 'scheduled';
  }
  if (config && !notice && rows.length === 0) notice = emptyBoardNotice(inputs, timezone);
  const announcement = pickGlassAnnouncement(inputs);
  const stopName = config?.stopName;
  const anyZh =
    hasZh(stopName) || hasZh(announcement?.text) || rows.some((row) => hasZh(row.headsign));
  const view: BoardView = {
    width,
    height,
    language: inputs.language === 'zh' && (anyZh || notice !== undefined) ? 'zh' : 'en',
    now,
    timezone,
    mode,
    rows,
    clockSynced: inputs.clockSynced,
  };
  if (!config) view.updating = true;
  if (stopName) view.stopName = stopName;
  if (config?.chineseScript) view.chineseScript = config.chineseScript;
  if (notice) view.notice = notice;
  if (announcement) view.announcement = announcement;
  return view;
}
