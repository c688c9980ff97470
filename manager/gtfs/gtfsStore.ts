/**
 * The fleet manager's timetable: imports a GTFS static feed into gtfs_ tables
 * of the manager's database and answers what the signs need from it.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { ScheduledDeparture } from '../../shared';
import { DepartureQuery } from './departureQuery';
import { importGtfsZip, type ZipInput } from './importer';
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from './importLimits';
import { readImportMeta } from './importMeta';
import type { ImportMeta } from './importMeta';
import type { ParsedFeedTables } from './parsedFeed';
import { migrateGtfsSchema } from './schema';
import type { ImportSummary, StopInfo } from './types';

/** The most departures a schedule message carries. */
const DEFAULT_LIMIT = 5000;

interface StopRow {
  stop_id: string;
  name: string;
  name_zh: string | null;
  timezone: string;
}

interface Prepared {
  query: DepartureQuery;
  stopById: Statement<[string], StopRow>;
  routeKey: Statement<[string], { route_key: number }>;
  stopsOfRoute: Statement<[number], { stop_id: string }>;
}

/**
 * The timetable on one connection. Its departures() runs on the caller's
 * thread: the importer and benchmarks use it; the manager asks the departures
 * query thread through TimetableSchedule instead.
 */
export class GtfsStore {
  private prepared: Prepared | undefined;
  private meta: ImportMeta | undefined;

  /** The database stays the caller's to open and close; call init() before use. */
  constructor(private readonly db: Database) {}

  /** Creates the gtfs_ tables when missing (idempotent) and loads the stored import. */
  init(): void {
    migrateGtfsSchema(this.db);
    this.prepared = {
      query: new DepartureQuery(this.db),
      stopById: this.db.prepare(
        'SELECT stop_id, name, name_zh, timezone FROM gtfs_stops WHERE stop_id = ?',
      ),
      routeKey: this.db.prepare('SELECT route_key FROM gtfs_routes WHERE route_id = ?'),
      // Asked once per route announcement, never per pass: no index of its own is kept for it.
      stopsOfRoute: this.db.prepare(
        `SELECT DISTINCT s.stop_id FROM gtfs_trips t
           JOIN gtfs_stop_times st ON st.trip_key = t.trip_key
           JOIN gtfs_stops s ON s.stop_key = st.stop_key
         WHERE t.route_key = ? ORDER BY s.stop_id`,
      ),
    };
    this.meta = readImportMeta(this.db);
  }

  /** Picks up a feed that another connection (the import worker) committed. */
  reload(): void {
    this.ready();
    this.meta = readImportMeta(this.db);
  }

  private ready(): Prepared {
    if (!this.prepared) throw new Error('GtfsStore.init() must be called first');
    return this.prepared;
  }

  /**
   * Replaces the stored feed with the one in the zip (a path or its bytes).
   * Rejects with GtfsImportError for a feed that cannot be used, and with
   * ImportLimitError for one past the limits; the previous one then stays.
   * `beforeCommit` has the last word (e.g. refusing a feed that drops signs'
   * stops): what it throws rolls the import back.
   */
  async importZip(
    input: ZipInput,
    source: string,
    limits: ImportLimits = DEFAULT_IMPORT_LIMITS,
    beforeCommit?: (feed: ParsedFeedTables) => void,
  ): Promise<ImportSummary> {
    this.ready();
    this.meta = await importGtfsZip(this.db, input, source, limits, beforeCommit);
    return this.meta.summary;
  }

  timezone(): string | undefined {
    this.ready();
    return this.meta?.timezone;
  }

  hasSchedule(): boolean {
    this.ready();
    return this.meta !== undefined;
  }

  summary(): ImportSummary | undefined {
    this.ready();
    return this.meta?.summary;
  }

  stop(stopId: string): StopInfo | undefined {
    const { stopById } = this.ready();
    if (!this.meta) return undefined;
    const row = stopById.get(stopId);
    if (!row) return undefined;
    return {
      stopId: row.stop_id,
      name: row.name_zh === null ? { en: row.name } : { en: row.name, zh: row.name_zh },
      timezone: row.timezone || this.meta.timezone,
    };
  }

  departures(
    stopId: string,
    fromEpoch: number,
    untilEpoch: number,
    limit = DEFAULT_LIMIT,
  ): ScheduledDeparture[] {
    const { query } = this.ready();
    if (!this.meta) return [];
    return query.departures(this.meta, stopId, fromEpoch, untilEpoch, limit);
  }

  routeStops(routeId: string): string[] | undefined {
    const { routeKey, stopsOfRoute } = this.ready();
    if (!this.meta) return undefined;
    const route = routeKey.get(routeId);
    if (!route) return undefined;
    return stopsOfRoute.all(route.route_key).map((row) => row.stop_id);
  }
}
