/**
 * The gtfs_ tables in the manager's database. Rows link by integer keys
 * assigned at import; text ids are kept for lookups and for the output.
 */
import type { Database } from 'better-sqlite3';

/** Departures at a stop in time order: every query the signs need starts here. */
export const STOP_TIMES_INDEX =
  'CREATE INDEX IF NOT EXISTS gtfs_stop_times_by_stop ON gtfs_stop_times (stop_key, departure)';

/** Idempotent: safe on every start. */
export function migrateGtfsSchema(db: Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS gtfs_import (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      summary_json TEXT NOT NULL,
      timezone TEXT NOT NULL,
      max_departure INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS gtfs_agencies (
      agency_id TEXT NOT NULL,
      name TEXT NOT NULL,
      timezone TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS gtfs_stops (
      stop_key INTEGER PRIMARY KEY,
      stop_id TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      name_zh TEXT,
      parent_id TEXT NOT NULL,
      timezone TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS gtfs_stops_parent ON gtfs_stops (parent_id) WHERE parent_id != '';
    CREATE TABLE IF NOT EXISTS gtfs_routes (
      route_key INTEGER PRIMARY KEY,
      route_id TEXT NOT NULL UNIQUE,
      agency_id TEXT NOT NULL,
      short_name TEXT NOT NULL,
      long_name TEXT NOT NULL,
      long_name_zh TEXT,
      route_type INTEGER
    );
    CREATE TABLE IF NOT EXISTS gtfs_trips (
      trip_key INTEGER PRIMARY KEY,
      trip_id TEXT NOT NULL UNIQUE,
      route_key INTEGER NOT NULL,
      service_id TEXT NOT NULL,
      headsign TEXT NOT NULL,
      headsign_zh TEXT,
      first_departure INTEGER NOT NULL,
      frequency_based INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS gtfs_stop_times (
      trip_key INTEGER NOT NULL,
      stop_key INTEGER NOT NULL,
      stop_sequence INTEGER NOT NULL,
      arrival INTEGER NOT NULL,
      departure INTEGER NOT NULL,
      boardable INTEGER NOT NULL,
      stop_headsign TEXT,
      stop_headsign_zh TEXT
    );
    ${STOP_TIMES_INDEX};
    CREATE TABLE IF NOT EXISTS gtfs_frequencies (
      trip_key INTEGER NOT NULL,
      start_time INTEGER NOT NULL,
      end_time INTEGER NOT NULL,
      headway INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS gtfs_calendar (
      service_id TEXT PRIMARY KEY,
      weekdays INTEGER NOT NULL,
      start_date INTEGER NOT NULL,
      end_date INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS gtfs_calendar_dates (
      date INTEGER NOT NULL,
      service_id TEXT NOT NULL,
      exception_type INTEGER NOT NULL,
      PRIMARY KEY (date, service_id)
    ) WITHOUT ROWID;
  `);
}

/** Every table holding feed rows, emptied together when a new feed replaces the old. */
export const GTFS_FEED_TABLES = [
  'gtfs_agencies',
  'gtfs_stops',
  'gtfs_routes',
  'gtfs_trips',
  'gtfs_stop_times',
  'gtfs_frequencies',
  'gtfs_calendar',
  'gtfs_calendar_dates',
] as const;
