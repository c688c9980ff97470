/**
 * What the realtime side needs from the imported timetable: a trip's stop
 * times in order, routes and stops by id. Read from the gtfs_ tables and kept
 * in memory until the timetable changes, so a feed update after the first
 * costs no queries for trips already seen.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { LocalizedText } from '../../shared';

export interface StaticStopTime {
  stopId: string;
  /** The station the stop belongs to, '' when none. */
  parentId: string;
  sequence: number;
  /** Seconds after the start of the service day. */
  arrival: number;
  departure: number;
}

export interface StaticTrip {
  tripId: string;
  routeId: string;
  route: string;
  headsign: LocalizedText;
  frequencyBased: boolean;
  /** Departure at the first stop, seconds after the start of the service day. */
  firstDeparture: number;
  stops: StaticStopTime[];
  /** Stop id (and station id) → positions in `stops`; a loop visits a stop twice. */
  indexByStop: Map<string, number[]>;
}

function indexStops(stops: StaticStopTime[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  const add = (id: string, i: number) => {
    const list = index.get(id);
    if (list) list.push(i);
    else index.set(id, [i]);
  };
  stops.forEach((stop, i) => {
    add(stop.stopId, i);
    if (stop.parentId) add(stop.parentId, i);
  });
  return index;
}

export interface StaticRoute {
  routeId: string;
  route: string;
  agencyId: string;
  routeType: number | null;
}

interface TripRow {
  trip_key: number;
  trip_id: string;
  route_id: string;
  route: string;
  headsign: string;
  headsign_zh: string | null;
  first_departure: number;
  frequency_based: number;
}

interface StopTimeRow {
  stop_id: string;
  parent_id: string;
  stop_sequence: number;
  arrival: number;
  departure: number;
}

interface RouteRow {
  route_id: string;
  route: string;
  agency_id: string;
  route_type: number | null;
}

interface StopRow {
  stop_id: string;
  name: string;
  name_zh: string | null;
  parent_id: string;
}

const ROUTE_NAME = `COALESCE(NULLIF(r.short_name, ''), NULLIF(r.long_name, ''), r.route_id)`;

export class StaticLookup {
  private statements:
    | {
        trip: Statement<[string], TripRow>;
        stopTimes: Statement<[number], StopTimeRow>;
        route: Statement<[string], RouteRow>;
        stop: Statement<[string], StopRow>;
        routesAtStop: Statement<[string, string], { route_id: string }>;
      }
    | undefined;
  private readonly trips = new Map<string, StaticTrip | null>();
  private readonly routes = new Map<string, StaticRoute | null>();
  private readonly stops = new Map<string, StopRow | null>();
  private readonly stopRoutes = new Map<string, Set<string>>();

  constructor(private readonly db: Database) {}

  /** Adds the index a trip's stop times are read by (idempotent), prepares the queries. */
  init(): void {
    this.db.exec(
      'CREATE INDEX IF NOT EXISTS gtfs_stop_times_by_trip ON gtfs_stop_times (trip_key, stop_sequence)',
    );
    this.statements = {
      trip: this.db.prepare(`SELECT t.trip_key, t.trip_id, r.route_id, ${ROUTE_NAME} AS route,
          t.headsign, t.headsign_zh, t.first_departure, t.frequency_based
        FROM gtfs_trips t JOIN gtfs_routes r ON r.route_key = t.route_key WHERE t.trip_id = ?`),
      stopTimes: this.db
        .prepare(`SELECT s.stop_id, s.parent_id, st.stop_sequence, st.arrival, st.departure
        FROM gtfs_stop_times st JOIN gtfs_stops s ON s.stop_key = st.stop_key
        WHERE st.trip_key = ? ORDER BY st.stop_sequence`),
      route: this.db.prepare(`SELECT r.route_id, ${ROUTE_NAME} AS route, r.agency_id, r.route_type
        FROM gtfs_routes r WHERE r.route_id = ?`),
      stop: this.db.prepare(
        'SELECT stop_id, name, name_zh, parent_id FROM gtfs_stops WHERE stop_id = ?',
      ),
      routesAtStop: this.db.prepare(`SELECT DISTINCT r.route_id FROM gtfs_stop_times st
        JOIN gtfs_stops s ON s.stop_key = st.stop_key
        JOIN gtfs_trips t ON t.trip_key = st.trip_key
        JOIN gtfs_routes r ON r.route_key = t.route_key
        WHERE s.stop_id = ? OR s.parent_id = ?`),
    };
  }

  /** The timetable was replaced: forget everything read from the old one. */
  clear(): void {
    this.trips.clear();
    this.routes.clear();
    this.stops.clear();
    this.stopRoutes.clear();
  }

  private ready(): NonNullable<StaticLookup['statements']> {
    if (!this.statements) throw new Error('StaticLookup.init() must be called first');
    return this.statements;
  }

  trip(tripId: string): StaticTrip | undefined {
    const cached = this.trips.get(tripId);
    if (cached !== undefined) return cached ?? undefined;
    const q = this.ready();
    const row = q.trip.get(tripId);
    const stops = row
      ? q.stopTimes.all(row.trip_key).map((s) => ({
          stopId: s.stop_id,
          parentId: s.parent_id,
          sequence: s.stop_sequence,
          arrival: s.arrival,
          departure: s.departure,
        }))
      : [];
    const trip: StaticTrip | null = row
      ? {
          tripId: row.trip_id,
          routeId: row.route_id,
          route: row.route,
          headsign:
            row.headsign_zh === null
              ? { en: row.headsign }
              : { en: row.headsign, zh: row.headsign_zh },
          frequencyBased: row.frequency_based === 1,
          firstDeparture: row.first_departure,
          stops,
          indexByStop: indexStops(stops),
        }
      : null;
    this.trips.set(tripId, trip);
    return trip ?? undefined;
  }

  route(routeId: string): StaticRoute | undefined {
    const cached = this.routes.get(routeId);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.ready().route.get(routeId);
    const route = row
      ? {
          routeId: row.route_id,
          route: row.route,
          agencyId: row.agency_id,
          routeType: row.route_type,
        }
      : null;
    this.routes.set(routeId, route);
    return route ?? undefined;
  }

  private stopRow(stopId: string): StopRow | undefined {
    const cached = this.stops.get(stopId);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.ready().stop.get(stopId) ?? null;
    this.stops.set(stopId, row);
    return row ?? undefined;
  }

  hasStop(stopId: string): boolean {
    return this.stopRow(stopId) !== undefined;
  }

  stopName(stopId: string): LocalizedText | undefined {
    const row = this.stopRow(stopId);
    if (!row) return undefined;
    return row.name_zh === null ? { en: row.name } : { en: row.name, zh: row.name_zh };
  }

  parentOf(stopId: string): string {
    return this.stopRow(stopId)?.parent_id ?? '';
  }

  /** Route ids whose trips call at the stop or at its platforms. */
  routesAt(stopId: string): Set<string> {
    let routes = this.stopRoutes.get(stopId);
    if (!routes) {
      routes = new Set(
        this.ready()
          .routesAtStop.all(stopId, stopId)
          .map((r) => r.route_id),
      );
      this.stopRoutes.set(stopId, routes);
    }
    return routes;
  }
}
