/**
 * What each stop's board should say: the timetable's departures with the
 * realtime feed laid over them. A trip the feed does not mention stays
 * "scheduled" (never assumed on time), a cancelled trip stays on the board as
 * cancelled until its time (at most a few per board), a skipped stop drops the
 * trip, and added trips come in with their own times.
 */
import { topics, type Arrival, type ArrivalsData, type ScheduledDeparture } from '../../shared';
import type { ScheduleSource } from '../gtfs/types';
import type { FleetLink } from '../link/fleetLink';
import type { AddedStopEvent, PredictionSet } from './predictionEngine';
import { findEvent, LIVE_SOURCE, SKIPPED_SOURCE, type TripPrediction } from './predictionEngine';
import type { VehicleOnTrip } from './vehicleProgress';
import { vehicleFor } from './vehicleProgress';

export interface BoardOptions {
  arrivalsPerStop: number;
  windowMinutes: number;
  /** How far back to look for late buses still to come. */
  lookbackMinutes: number;
  /** A live bus stays this long after its predicted time: it may still be at the door. */
  departedGraceSeconds: number;
  /** Cancelled rows a board shows at most, so they never crowd out running buses. */
  maxCancelledRows: number;
  /** Times closer than this to the ones last sent are not a change worth a message. */
  timeToleranceSeconds: number;
}

export const DEFAULT_BOARD_OPTIONS: Omit<BoardOptions, 'arrivalsPerStop' | 'windowMinutes'> = {
  lookbackMinutes: 60,
  departedGraceSeconds: 30,
  maxCancelledRows: 2,
  timeToleranceSeconds: 15,
};

/** What realtime knows right now; predictions are null when there is no usable fresh feed. */
export interface RealtimeView {
  predictions: PredictionSet | null;
  vehicles: Map<string, VehicleOnTrip>;
  feedTimestamp?: number;
}

/** Built field by field: object spread is the slowest part of a city-wide pass. */
function rowOf(d: ScheduledDeparture, source: Arrival['source'], time = d.time): Arrival {
  return {
    tripId: d.tripId,
    routeId: d.routeId,
    route: d.route,
    headsign: d.headsign,
    time,
    scheduledTime: d.time,
    source,
  };
}

function addedRow(a: AddedStopEvent): Arrival {
  const row: Arrival = {
    tripId: a.tripId,
    routeId: a.routeId,
    route: a.route,
    headsign: a.headsign,
    time: a.time,
    scheduledTime: a.time,
    source: 'live',
    predictedAt: a.predictedAt,
  };
  if (a.delay !== undefined) {
    row.delay = a.delay;
    row.scheduledTime = Math.max(0, a.time - a.delay);
  }
  return row;
}

/** Stops the bus still calls at from `from` up to (not counting) `to`; skipped ones do not count. */
function stopsBetween(run: TripPrediction, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i += 1) if (run.sources[i] !== SKIPPED_SOURCE) count += 1;
  return count;
}

/**
 * Without a vehicle position, where the trip's predictions put the bus: the
 * first stop whose predicted departure is still ahead.
 */
function nextStopIndex(run: TripPrediction, now: number): number | undefined {
  for (let i = 0; i < run.times.length; i += 1) {
    if (run.sources[i] === LIVE_SOURCE && run.times[i]! >= now) return i;
  }
  return undefined;
}

/** One collator for every sort: localeCompare with options builds a new one per call. */
const byName = new Intl.Collator('en', { numeric: true }).compare;

/** The rows of one stop's board at `now`, in time order. Pure. */
export function boardRows(
  stopId: string,
  now: number,
  departures: ScheduledDeparture[],
  realtime: RealtimeView,
  options: BoardOptions,
): Arrival[] {
  const rows: Arrival[] = [];
  const predictions = realtime.predictions;
  const until = now + options.windowMinutes * 60;
  // Departures come in timetable order; a few boards' worth is plenty however late or early buses run.
  const enough = options.arrivalsPerStop * 3 + options.maxCancelledRows;
  for (const d of departures) {
    if (rows.length >= enough) break;
    const event = predictions ? findEvent(predictions, d.tripId, stopId, d.time) : undefined;
    if (!event || event.source === 'scheduled') {
      if (d.time >= now && d.time < until) rows.push(rowOf(d, 'scheduled'));
      continue;
    }
    if (event.source === 'skipped') continue;
    if (event.source === 'cancelled') {
      if (d.time >= now && d.time < until) rows.push(rowOf(d, 'cancelled'));
      continue;
    }
    if (event.time < now - options.departedGraceSeconds || event.time >= until) continue;
    const row = rowOf(d, 'live', event.time);
    if (event.delay !== undefined) row.delay = event.delay;
    if (event.predictedAt !== undefined) row.predictedAt = event.predictedAt;
    const vehicle = vehicleFor(realtime.vehicles, event.trip.tripId, event.trip.startDate);
    if (vehicle) {
      const away = event.stopIndex - vehicle.stopIndex;
      // The bus is past this stop: it has left, whatever the clock says.
      if (away < 0) continue;
      row.stopsAway = stopsBetween(event.trip, vehicle.stopIndex, event.stopIndex);
      if (away === 0 && vehicle.status === 'stopped-at') row.atStop = true;
      if (vehicle.crowding) row.crowding = vehicle.crowding;
    } else {
      const next = nextStopIndex(event.trip, now);
      // Only once the bus is under way: before its first stop "12 stops away" says nothing useful.
      if (next !== undefined && next > 0 && next <= event.stopIndex) {
        row.stopsAway = stopsBetween(event.trip, next, event.stopIndex);
      }
    }
    rows.push(row);
  }
  for (const added of predictions?.added.get(stopId) ?? []) {
    if (added.time >= now - options.departedGraceSeconds && added.time < until) {
      rows.push(addedRow(added));
    }
  }
  rows.sort((a, b) => a.time - b.time || byName(a.route, b.route) || byName(a.tripId, b.tripId));
  let cancelled = 0;
  return rows
    .filter((row) => row.source !== 'cancelled' || ++cancelled <= options.maxCancelledRows)
    .slice(0, options.arrivalsPerStop);
}

/** What the glass shows from a row, with times compared within a tolerance. */
function sameRow(a: Arrival, b: Arrival, tolerance: number): boolean {
  return (
    a.tripId === b.tripId &&
    a.source === b.source &&
    a.route === b.route &&
    a.headsign.en === b.headsign.en &&
    a.headsign.zh === b.headsign.zh &&
    Math.abs(a.time - b.time) < tolerance &&
    a.stopsAway === b.stopsAway &&
    a.atStop === b.atStop &&
    a.crowding === b.crowding
  );
}

export function boardChanged(
  previous: ArrivalsData | undefined,
  next: ArrivalsData,
  toleranceSeconds: number,
): boolean {
  if (!previous) return true;
  if (previous.arrivals.length !== next.arrivals.length) return true;
  // A board that turned live (or stopped being live) is a change even with equal rows.
  if ((previous.feedTimestamp === undefined) !== (next.feedTimestamp === undefined)) return true;
  return next.arrivals.some((row, i) => !sameRow(row, previous.arrivals[i]!, toleranceSeconds));
}

interface CachedWindow {
  refreshAt: number;
  /** The timetable it was read from: a window of an older one is due at once. */
  generation: number;
  until: number;
  departures: ScheduledDeparture[];
}

/**
 * A stop's timetable window is read again after 5 to 10 minutes, the exact
 * moment spread by stop id, so a city's stops never all hit the database in
 * the same pass.
 */
const WINDOW_REFRESH_SECONDS = 300;
/** The window reaches this far past the board's horizon, so a reused window still covers it. */
const WINDOW_MARGIN_SECONDS = 2 * WINDOW_REFRESH_SECONDS;

function spread(stopId: string): number {
  let hash = 0;
  for (let i = 0; i < stopId.length; i += 1) hash = (hash * 31 + stopId.charCodeAt(i)) >>> 0;
  return hash % WINDOW_REFRESH_SECONDS;
}

/** Window queries in flight at once: enough to hide the round trip to the query thread. */
const PREPARE_CONCURRENCY = 4;

/** Publishes in flight at once: MQTT keeps order per topic, and one round trip per board is slow. */
const PUBLISH_CONCURRENCY = 256;

/** Builds each stop's board and publishes, retained, the ones whose glass would change. */
export async function publishChangedBoards(
  link: FleetLink,
  boards: ArrivalBoards,
  stopIds: readonly string[],
  now: number,
): Promise<number> {
  const { ready, failure } = await boards.prepare(stopIds, now);
  const changed = ready.map((id) => boards.build(id, now)).filter((b) => boards.changed(b));
  for (let i = 0; i < changed.length; i += PUBLISH_CONCURRENCY) {
    await Promise.all(
      changed.slice(i, i + PUBLISH_CONCURRENCY).map(async (board) => {
        await link.publish('stopArrivals', topics.stopArrivals(board.stopId), board, true);
        boards.markSent(board);
      }),
    );
  }
  // The other stops went out; these are tried again in the next pass.
  if (failure) throw failure;
  return changed.length;
}

/** What prepare() got ready, and why the rest could not be. */
export interface PreparedBoards {
  /** Stops whose boards build() can make now. */
  ready: string[];
  /** Set when some stop has no timetable window: the first reason, with how many failed. */
  failure?: Error;
}

/**
 * Builds boards and remembers what each stop was last sent. The timetable part
 * of a board is read once every few minutes per stop, by prepare(), so a
 * realtime update touches no database for stops it already knows, and build()
 * itself never waits on a query.
 */
export class ArrivalBoards {
  private readonly windows = new Map<string, CachedWindow>();
  private readonly sent = new Map<string, ArrivalsData>();
  /** Bumped by each new timetable; windows keep serving build() until prepare() replaces them. */
  private generation = 0;

  constructor(
    private readonly schedule: ScheduleSource,
    private readonly realtime: () => RealtimeView,
    private readonly options: BoardOptions,
  ) {}

  /**
   * Reads the timetable windows of `stopIds` that are missing or due, so
   * build() can run on them without a query. A stop whose window could not be
   * read keeps the one it had (the board stays buildable); one that never had
   * a window is left out of `ready`.
   */
  async prepare(stopIds: readonly string[], now: number): Promise<PreparedBoards> {
    const due = stopIds.filter((stopId) => this.due(stopId, now));
    const errors: Error[] = [];
    for (let i = 0; i < due.length; i += PREPARE_CONCURRENCY) {
      await Promise.all(
        due
          .slice(i, i + PREPARE_CONCURRENCY)
          .map((stopId) => this.refresh(stopId, now).catch((err: Error) => errors.push(err))),
      );
    }
    const ready = stopIds.filter((stopId) => this.windows.has(stopId));
    if (ready.length === stopIds.length) return { ready };
    const missing = stopIds.length - ready.length;
    const reason = errors[0]?.message ?? 'no timetable window';
    return {
      ready,
      failure: new Error(`${missing} stop(s) have no timetable window yet: ${reason}`),
    };
  }

  private due(stopId: string, now: number): boolean {
    const cached = this.windows.get(stopId);
    const horizon = now + this.options.windowMinutes * 60;
    return (
      !cached ||
      cached.generation !== this.generation ||
      now >= cached.refreshAt ||
      cached.until < horizon
    );
  }

  private async refresh(stopId: string, now: number): Promise<void> {
    const generation = this.generation;
    const from = now - this.options.lookbackMinutes * 60;
    const until = now + this.options.windowMinutes * 60 + WINDOW_MARGIN_SECONDS;
    const departures = await this.schedule.departures(stopId, from, until, 1000);
    const refreshAt = now + WINDOW_REFRESH_SECONDS + spread(stopId);
    this.windows.set(stopId, { refreshAt, generation, until, departures });
  }

  /** One stop's board now, its window read first when due. */
  async buildNow(stopId: string, now: number): Promise<ArrivalsData> {
    const { failure } = await this.prepare([stopId], now);
    if (failure) throw failure;
    return this.build(stopId, now);
  }

  /** Synchronous, over the window prepare() read: no query here. */
  build(stopId: string, now: number): ArrivalsData {
    const window = this.windows.get(stopId);
    if (!window) throw new Error(`no timetable window for stop ${stopId}: prepare() it first`);
    const realtime = this.realtime();
    const data: ArrivalsData = {
      stopId,
      generatedAt: now,
      arrivals: boardRows(stopId, now, window.departures, realtime, this.options),
    };
    if (realtime.predictions && realtime.feedTimestamp !== undefined) {
      data.feedTimestamp = realtime.feedTimestamp;
    }
    return data;
  }

  /** Whether the signs would show something different from what they were last sent. */
  changed(data: ArrivalsData): boolean {
    return boardChanged(this.sent.get(data.stopId), data, this.options.timeToleranceSeconds);
  }

  markSent(data: ArrivalsData): void {
    this.sent.set(data.stopId, data);
  }

  lastSent(stopId: string): ArrivalsData | undefined {
    return this.sent.get(stopId);
  }

  /** After a broker restart nothing retained survives: every board goes out again. */
  forgetSent(): void {
    this.sent.clear();
  }

  /** Another manager publishes the other stops: what this one sent them may be out of date. */
  forgetSentExcept(stopIds: ReadonlySet<string>): void {
    for (const stopId of this.sent.keys()) if (!stopIds.has(stopId)) this.sent.delete(stopId);
  }

  /** A new timetable: every cached window is due (and serves build() until read again). */
  scheduleChanged(): void {
    this.generation += 1;
  }
}
