/**
 * Departures at a stop within a time window. GTFS times count from the start
 * of a service day, and a service day's trips may run past midnight into the
 * next, so every service date that can reach the window is asked in turn.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ScheduledDeparture } from '../../shared';
import type { ImportMeta } from './importMeta';
import { addDays, localDate, serviceDayStart, weekdayIndex } from './serviceDate';

/**
 * Every query is bounded whatever it is asked: no window longer than the
 * longest offline slice a sign may keep, no more rows than a schedule message
 * holds. So no query's cost grows with the size of the feed.
 */
export const MAX_WINDOW_SECONDS = 72 * 3600;
export const MAX_DEPARTURES = 5000;

/** The limits the protocol puts on a departure's texts. */
const MAX_ROUTE_LENGTH = 32;
const MAX_TEXT_LENGTH = 200;

interface DayParams {
  date: number;
  weekdayBit: number;
  stop: number;
  from: number;
  until: number;
  limit: number;
}

interface DepartureRow {
  tripId: string;
  routeId: string;
  route: string;
  headsign: string;
  headsignZh: string | null;
  departure: number;
}

interface FrequencyRow extends Omit<DepartureRow, 'departure'> {
  offset: number;
  startTime: number;
  endTime: number;
  headway: number;
}

/** Services running on @date: calendar weekdays within range, plus added dates, minus removed. */
const ACTIVE_SERVICES = `
  WITH active(service_id) AS (
    SELECT service_id FROM gtfs_calendar
     WHERE start_date <= @date AND end_date >= @date AND (weekdays & @weekdayBit) != 0
    UNION
    SELECT service_id FROM gtfs_calendar_dates WHERE date = @date AND exception_type = 1
    EXCEPT
    SELECT service_id FROM gtfs_calendar_dates WHERE date = @date AND exception_type = 2
  )`;

const DEPARTURE_COLUMNS = `
  t.trip_id AS tripId, r.route_id AS routeId,
  COALESCE(NULLIF(r.short_name, ''), NULLIF(r.long_name, ''), r.route_id) AS route,
  COALESCE(st.stop_headsign, t.headsign) AS headsign,
  CASE WHEN st.stop_headsign IS NULL THEN t.headsign_zh ELSE st.stop_headsign_zh END AS headsignZh`;

const FROM_STOP_TIMES = `
  FROM gtfs_stop_times st
  JOIN gtfs_trips t ON t.trip_key = st.trip_key
  JOIN gtfs_routes r ON r.route_key = t.route_key`;

const AT_STOPS_ON_ACTIVE_TRIPS = `
  WHERE st.stop_key = @stop
    AND st.boardable = 1
    AND t.service_id IN active`;

export class DepartureQuery {
  private readonly stopKeys: Statement<[string, string], { stop_key: number }>;
  private readonly timed: Statement<[DayParams], DepartureRow>;
  private readonly repeating: Statement<[Omit<DayParams, 'from' | 'until'>], FrequencyRow>;

  constructor(db: Database) {
    // A station's departures are those of its platforms.
    this.stopKeys = db.prepare(
      'SELECT stop_key FROM gtfs_stops WHERE stop_id = ? OR parent_id = ?',
    );
    this.timed = db.prepare(`${ACTIVE_SERVICES}
      SELECT ${DEPARTURE_COLUMNS}, st.departure AS departure
      ${FROM_STOP_TIMES}
      ${AT_STOPS_ON_ACTIVE_TRIPS}
        AND st.departure >= @from AND st.departure < @until
        AND t.frequency_based = 0
      ORDER BY st.departure
      LIMIT @limit`);
    this.repeating = db.prepare(`${ACTIVE_SERVICES}
      SELECT ${DEPARTURE_COLUMNS}, st.departure - t.first_departure AS offset,
        f.start_time AS startTime, f.end_time AS endTime, f.headway AS headway
      ${FROM_STOP_TIMES}
      JOIN gtfs_frequencies f ON f.trip_key = t.trip_key
      ${AT_STOPS_ON_ACTIVE_TRIPS}
        AND t.frequency_based = 1
      LIMIT @limit`);
  }

  departures(
    meta: ImportMeta,
    stopId: string,
    fromEpoch: number,
    requestedUntil: number,
    requestedLimit: number,
  ): ScheduledDeparture[] {
    const limit = Math.min(requestedLimit, MAX_DEPARTURES);
    const untilEpoch = Math.min(requestedUntil, fromEpoch + MAX_WINDOW_SECONDS);
    if (!(untilEpoch > fromEpoch) || limit <= 0) return [];
    const keys = this.stopKeys.all(stopId, stopId).map((row) => row.stop_key);
    if (keys.length === 0) return [];
    const zone = meta.timezone;

    const found: ScheduledDeparture[] = [];
    // A day earlier than strictly needed: on DST days a service day starts an hour off midnight.
    const lastDate = localDate(untilEpoch, zone);
    for (
      let date = addDays(localDate(fromEpoch - meta.maxDeparture, zone), -1);
      date <= lastDate;
      date = addDays(date, 1)
    ) {
      const dayStart = serviceDayStart(date, zone);
      if (found.length >= limit && dayStart > (found[limit - 1]?.time ?? Infinity)) break;
      const from = fromEpoch - dayStart;
      // Once `limit` departures are known, later days need only look before the last of them.
      const cutoff =
        found.length >= limit ? (found[limit - 1]?.time ?? untilEpoch) + 1 : untilEpoch;
      const until = Math.min(untilEpoch, cutoff) - dayStart;
      if (until <= 0 || from > meta.maxDeparture) continue;
      // One stop at a time: the index on (stop_key, departure) then yields rows in time
      // order and the LIMIT ends the scan, however many trips call at the stop.
      for (const stop of keys) {
        const day = { date, weekdayBit: 1 << weekdayIndex(date), stop, limit };
        for (const row of this.timed.all({ ...day, from, until })) {
          found.push(toDeparture(row, dayStart + row.departure));
        }
        for (const row of this.repeating.all(day)) {
          for (const time of repeatedTimes(row, from, until)) {
            found.push(toDeparture(row, dayStart + time));
          }
        }
      }
      if (found.length >= limit) sortDepartures(found).splice(limit);
    }
    return sortDepartures(found).slice(0, limit);
  }
}

/** Departure times (since service-day start) of a frequency-based trip within [from, until). */
function repeatedTimes(row: FrequencyRow, from: number, until: number): number[] {
  const times: number[] = [];
  const firstRun = Math.max(0, Math.ceil((from - row.offset - row.startTime) / row.headway));
  for (
    let start = row.startTime + firstRun * row.headway;
    start < row.endTime;
    start += row.headway
  ) {
    const time = start + row.offset;
    if (time >= until) break;
    if (time >= from) times.push(time);
  }
  return times;
}

function toDeparture(row: Omit<DepartureRow, 'departure'>, time: number): ScheduledDeparture {
  const en = row.headsign.slice(0, MAX_TEXT_LENGTH);
  return {
    tripId: row.tripId,
    routeId: row.routeId,
    route: row.route.slice(0, MAX_ROUTE_LENGTH),
    headsign:
      row.headsignZh === null ? { en } : { en, zh: row.headsignZh.slice(0, MAX_TEXT_LENGTH) },
    time,
  };
}

/** One collator for every sort: localeCompare with options builds one per call, which costs. */
const routeOrder = new Intl.Collator('en', { numeric: true });
const tripOrder = new Intl.Collator(undefined);

/** By time; ties in a stable, readable order so the sign does not shuffle equal times. */
function sortDepartures(list: ScheduledDeparture[]): ScheduledDeparture[] {
  return list.sort(
    (a, b) =>
      a.time - b.time ||
      routeOrder.compare(a.route, b.route) ||
      tripOrder.compare(a.tripId, b.tripId),
  );
}
