/**
 * Turns TripUpdates into per-stop predictions following the GTFS-realtime
 * reference: a StopTimeEvent's `time` wins over its `delay`; a delay carries to
 * later stops of the trip until the next StopTimeUpdate; NO_DATA leaves later
 * stops on the timetable until a later update gives data; SKIPPED takes that
 * one stop off; a CANCELED trip is cancelled at every stop it would have served;
 * ADDED (and other unscheduled) trips stand on their own times. Trips are
 * matched by trip_id and start_date, frequency-based ones by start_time too.
 */
import { addDays, localDate, serviceDayStart } from '../gtfs/serviceDate';
import { parseGtfsTime } from '../gtfs/parseTime';
import type { LocalizedText } from '../../shared';
import type { StopTimeEvent, StopTimeUpdate, TripUpdate } from './feedModel';
import type { StaticLookup, StaticTrip } from './staticLookup';

export type EventSource = 'live' | 'scheduled' | 'cancelled' | 'skipped';

/** One trip at one stop, as a board reads it. */
export interface StopEvent {
  source: EventSource;
  /** Predicted departure when live, else the scheduled one. */
  time: number;
  scheduledTime: number;
  delay?: number;
  predictedAt?: number;
  trip: TripPrediction;
  /** Position of the stop in the trip's stop list. */
  stopIndex: number;
}

const SOURCES: readonly EventSource[] = ['live', 'scheduled', 'cancelled', 'skipped'];
export const LIVE_SOURCE = 0;
export const SKIPPED_SOURCE = 3;

/** A trip the timetable does not have (ADDED and the like), at one stop. */
export interface AddedStopEvent {
  tripId: string;
  routeId: string;
  route: string;
  headsign: LocalizedText;
  stopId: string;
  time: number;
  delay?: number;
  predictedAt: number;
}

/**
 * One run of a timetable trip with what the feed says of each of its stops, in
 * arrays by stop position: a whole city's feed is tens of thousands of stop
 * events, and a board only ever looks at a few of them.
 */
export interface TripPrediction {
  tripId: string;
  startDate: number;
  static: StaticTrip;
  /** Epoch seconds the run's timetable counts from. */
  dayStart: number;
  predictedAt: number;
  /** Index into SOURCES per stop. */
  sources: Uint8Array;
  /** Predicted departure per stop (the scheduled one unless live). */
  times: Float64Array;
  /** Delay per stop; NaN when none. */
  delays: Float64Array;
}

export interface MatchStats {
  tripUpdates: number;
  tripsMatched: number;
  tripsUnmatched: number;
  /** StopTimeUpdates naming a stop_id, and how many of those the timetable has. */
  stopIdsNamed: number;
  stopIdsMatched: number;
  unmatchedTripIds: string[];
}

export interface PredictionSet {
  /** Trip id → its runs in the feed (usually one). */
  trips: Map<string, TripPrediction[]>;
  /** Stop id → trips the timetable does not have, calling there. */
  added: Map<string, AddedStopEvent[]>;
  stats: MatchStats;
}

/** What the feed says of a trip at a stop at a scheduled time; undefined when it says nothing. */
export function findEvent(
  set: PredictionSet,
  tripId: string,
  stopId: string,
  scheduledTime: number,
): StopEvent | undefined {
  const runs = set.trips.get(tripId);
  if (!runs) return undefined;
  for (const run of runs) {
    for (const index of run.static.indexByStop.get(stopId) ?? []) {
      if (run.dayStart + run.static.stops[index]!.departure !== scheduledTime) continue;
      const source = SOURCES[run.sources[index]!]!;
      const event: StopEvent = {
        source,
        time: run.times[index]!,
        scheduledTime,
        trip: run,
        stopIndex: index,
      };
      const delay = run.delays[index]!;
      if (source === 'live') {
        event.delay = Number.isNaN(delay) ? 0 : delay;
        event.predictedAt = run.predictedAt;
      }
      return event;
    }
  }
  return undefined;
}

export interface EngineContext {
  lookup: StaticLookup;
  /** Zone the timetable's times count in. */
  timezone: string;
  /** Epoch seconds. */
  now: number;
  /** Header time of the feed. */
  feedTimestamp: number;
  /** A trip whose own timestamp is older than this (seconds) has no live data. */
  staleAfterSeconds: number;
}

/** serviceDayStart asks Intl for zone offsets, which is slow; a feed has a few dates at most. */
function dayStartOf(date: number, zone: string, memo: Map<number, number>): number {
  let start = memo.get(date);
  if (start === undefined) {
    start = serviceDayStart(date, zone);
    memo.set(date, start);
  }
  return start;
}

/**
 * The service date a trip without start_date most likely runs on: of yesterday,
 * today and tomorrow, the one whose run is closest to now.
 */
function guessStartDate(trip: StaticTrip, ctx: EngineContext): number {
  const today = localDate(ctx.now, ctx.timezone);
  let best = today;
  let bestDistance = Infinity;
  for (const date of [addDays(today, -1), today, addDays(today, 1)]) {
    const start = serviceDayStart(date, ctx.timezone);
    const first = start + (trip.stops[0]?.departure ?? 0);
    const last = start + (trip.stops[trip.stops.length - 1]?.arrival ?? 0);
    const distance = ctx.now < first ? first - ctx.now : ctx.now > last ? ctx.now - last : 0;
    if (distance < bestDistance) {
      best = date;
      bestDistance = distance;
    }
  }
  return best;
}

/** Seconds to add to the trip's timetable for this run; undefined when the run does not exist. */
function runOffset(trip: StaticTrip, startTime: string | undefined): number | undefined {
  if (!trip.frequencyBased) {
    // A non-frequency trip's start_time, when given, must be the trip's own.
    if (startTime === undefined) return 0;
    return parseGtfsTime(startTime) === trip.firstDeparture ? 0 : undefined;
  }
  if (startTime === undefined) return undefined;
  const start = parseGtfsTime(startTime);
  return start === undefined ? undefined : start - trip.firstDeparture;
}

/** Index in the trip's stops of the stop an update names, searching from `from`. */
function matchStop(trip: StaticTrip, update: StopTimeUpdate, from: number): number {
  const stops = trip.stops;
  for (let i = from; i < stops.length; i += 1) {
    const stop = stops[i]!;
    if (update.stopSequence !== undefined) {
      if (stop.sequence === update.stopSequence) return i;
    } else if (stop.stopId === update.stopId) {
      return i;
    }
  }
  return -1;
}

/** The event a departure is predicted from: departure, else arrival (and its dwell). */
function predictedDeparture(
  update: StopTimeUpdate,
  scheduledArrival: number,
  scheduledDeparture: number,
): { time: number; delay: number } | undefined {
  const pick = (event: StopTimeEvent | undefined, scheduled: number, dwell: number) => {
    if (!event) return undefined;
    // `time` wins over `delay` when both are given; what carries on is the delay it implies.
    if (event.time !== undefined) {
      return { time: event.time + dwell, delay: event.time - scheduled };
    }
    if (event.delay !== undefined) {
      return { time: scheduledDeparture + event.delay, delay: event.delay };
    }
    return undefined;
  };
  const dwell = Math.max(0, scheduledDeparture - scheduledArrival);
  return (
    pick(update.departure, scheduledDeparture, 0) ?? pick(update.arrival, scheduledArrival, dwell)
  );
}

function addScheduledTrip(
  set: PredictionSet,
  update: TripUpdate,
  trip: StaticTrip,
  ctx: EngineContext,
  dayStarts: Map<number, number>,
): boolean {
  const startDate = update.trip.startDate ?? guessStartDate(trip, ctx);
  const offset = runOffset(trip, update.trip.startTime);
  if (offset === undefined) return false;
  const count = trip.stops.length;
  const predictedAt = update.timestamp ?? ctx.feedTimestamp;
  const run: TripPrediction = {
    tripId: trip.tripId,
    startDate,
    static: trip,
    dayStart: dayStartOf(startDate, ctx.timezone, dayStarts) + offset,
    predictedAt,
    sources: new Uint8Array(count),
    times: new Float64Array(count),
    delays: new Float64Array(count).fill(NaN),
  };
  const runs = set.trips.get(trip.tripId);
  // The same run twice (a producer repeating itself): the later entity wins.
  const same =
    runs?.findIndex((r) => r.startDate === startDate && r.dayStart === run.dayStart) ?? -1;
  if (runs && same >= 0) runs[same] = run;
  else if (runs) runs.push(run);
  else set.trips.set(trip.tripId, [run]);

  const fresh = ctx.feedTimestamp - predictedAt <= ctx.staleAfterSeconds;
  const cancelled = update.trip.relationship === 'canceled';
  // Which update covers each stop: updates come in stop order; ones naming no stop of the trip are ignored.
  const updateAt: (StopTimeUpdate | undefined)[] = new Array<StopTimeUpdate | undefined>(count);
  let cursor = 0;
  for (const stu of update.stopTimeUpdates) {
    const index = matchStop(trip, stu, cursor);
    if (index < 0) continue;
    updateAt[index] = stu;
    cursor = index + 1;
  }

  const LIVE = 0;
  const SCHEDULED = 1;
  const CANCELLED = 2;
  const SKIPPED = 3;
  // Before the first update only the trip-level delay (if any) says anything.
  let carried: number | undefined = update.delay;
  for (let index = 0; index < count; index += 1) {
    const stop = trip.stops[index]!;
    const scheduledTime = run.dayStart + stop.departure;
    const stu = updateAt[index];
    let source = SCHEDULED;
    let time = scheduledTime;
    let delay = NaN;
    if (cancelled) {
      source = CANCELLED;
    } else if (stu?.relationship === 'skipped') {
      // The delay carried so far still holds for the stops after it.
      source = SKIPPED;
    } else {
      if (stu?.relationship === 'no-data') {
        carried = undefined;
      } else if (stu) {
        const predicted = predictedDeparture(stu, run.dayStart + stop.arrival, scheduledTime);
        // An update without times means on time from here on (the reference's example).
        carried = predicted ? predicted.delay : 0;
        if (predicted && fresh) {
          source = LIVE;
          time = predicted.time;
          delay = predicted.delay;
        }
      }
      if (source !== LIVE && carried !== undefined && fresh) {
        source = LIVE;
        time = scheduledTime + carried;
        delay = carried;
      }
    }
    run.sources[index] = source;
    run.times[index] = time;
    run.delays[index] = delay;
  }
  return true;
}

/** ADDED, UNSCHEDULED, DUPLICATED, NEW: the update's own times, at the stops it names. */
function addUnscheduledTrip(set: PredictionSet, update: TripUpdate, ctx: EngineContext): boolean {
  const tripId = update.trip.tripId ?? update.entityId;
  const known = update.trip.tripId ? ctx.lookup.trip(update.trip.tripId) : undefined;
  const routeId = update.trip.routeId ?? known?.routeId;
  const route = routeId ? ctx.lookup.route(routeId) : undefined;
  if (!routeId || !route) return false;
  const predictedAt = update.timestamp ?? ctx.feedTimestamp;
  if (ctx.feedTimestamp - predictedAt > ctx.staleAfterSeconds) return true;
  const timed = update.stopTimeUpdates.filter(
    (s) => s.stopId !== undefined && s.relationship !== 'skipped' && s.relationship !== 'no-data',
  );
  const lastStop = timed[timed.length - 1]?.stopId;
  // Its destination is where its updates end, unless the timetable names the trip.
  const headsign = known?.headsign ??
    (lastStop ? ctx.lookup.stopName(lastStop) : undefined) ?? { en: route.route };
  for (const stu of timed) {
    const event = stu.departure ?? stu.arrival;
    if (event?.time === undefined) continue;
    const stopId = stu.stopId!;
    const added: AddedStopEvent = {
      tripId,
      routeId,
      route: route.route,
      headsign,
      stopId,
      time: event.time,
      predictedAt,
    };
    if (event.delay !== undefined) added.delay = event.delay;
    for (const id of [stopId, ctx.lookup.parentOf(stopId)]) {
      if (!id) continue;
      const list = set.added.get(id) ?? [];
      list.push(added);
      set.added.set(id, list);
    }
  }
  return true;
}

export function buildPredictions(updates: TripUpdate[], ctx: EngineContext): PredictionSet {
  const set: PredictionSet = {
    trips: new Map(),
    added: new Map(),
    stats: {
      tripUpdates: updates.length,
      tripsMatched: 0,
      tripsUnmatched: 0,
      stopIdsNamed: 0,
      stopIdsMatched: 0,
      unmatchedTripIds: [],
    },
  };
  const dayStarts = new Map<number, number>();
  for (const update of updates) {
    for (const stu of update.stopTimeUpdates) {
      if (stu.stopId === undefined) continue;
      set.stats.stopIdsNamed += 1;
      if (ctx.lookup.hasStop(stu.stopId)) set.stats.stopIdsMatched += 1;
    }
    const relationship = update.trip.relationship;
    // DELETED trips are not to be shown to passengers at all.
    if (relationship === 'deleted') continue;
    let matched: boolean;
    if (
      relationship === 'scheduled' ||
      relationship === 'canceled' ||
      relationship === 'replacement'
    ) {
      const trip = update.trip.tripId ? ctx.lookup.trip(update.trip.tripId) : undefined;
      matched = trip !== undefined && addScheduledTrip(set, update, trip, ctx, dayStarts);
    } else {
      matched = addUnscheduledTrip(set, update, ctx);
    }
    if (matched) {
      set.stats.tripsMatched += 1;
    } else {
      set.stats.tripsUnmatched += 1;
      if (set.stats.unmatchedTripIds.length < 20) {
        set.stats.unmatchedTripIds.push(update.trip.tripId ?? `(entity ${update.entityId})`);
      }
    }
  }
  return set;
}
