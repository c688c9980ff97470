/**
 * Replaces the stored feed in a single transaction: readers see either the
 * old schedule or the new one, never a mix, and a failure anywhere leaves the
 * old one in place. stop_times rows stream in as they are read; the index over
 * them is built once at the end, which is far cheaper than keeping it up to
 * date row by row.
 */
import type { Database, Statement } from 'better-sqlite3';
import { writeImportMeta, type ImportMeta } from './importMeta';
import type { ParsedFeedTables } from './parsedFeed';
import type { RawStopTime, StopTimeRow, StopTimesSink } from './readStopTimes';
import { GTFS_FEED_TABLES, STOP_TIMES_INDEX } from './schema';

/** Staged rows come back in pages, since one connection cannot read and write at once. */
const STAGE_PAGE = 10_000;

export class FeedWriter implements StopTimesSink {
  private readonly stopTime: Statement;
  private stageInsert: Statement | undefined;
  private open = false;

  /** Starts the transaction and empties the feed tables (the old rows stay visible to readers). */
  constructor(private readonly db: Database) {
    db.exec('BEGIN IMMEDIATE');
    this.open = true;
    for (const table of GTFS_FEED_TABLES) db.exec(`DELETE FROM ${table}`);
    db.exec('DROP INDEX IF EXISTS gtfs_stop_times_by_stop');
    this.stopTime = db.prepare('INSERT INTO gtfs_stop_times VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  }

  write(row: StopTimeRow): void {
    this.stopTime.run(
      row.trip + 1,
      row.stop + 1,
      row.sequence,
      row.arrival,
      row.departure,
      row.boardable,
      row.headsign,
      row.headsignZh,
    );
  }

  discardWritten(): void {
    this.db.exec('DELETE FROM gtfs_stop_times');
  }

  stage(row: RawStopTime): void {
    if (!this.stageInsert) {
      this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS gtfs_stage (
        trip INTEGER, sequence INTEGER, stop INTEGER, arrival INTEGER, departure INTEGER,
        no_pickup INTEGER, line INTEGER, headsign TEXT)`);
      this.db.exec('DELETE FROM gtfs_stage');
      this.stageInsert = this.db.prepare('INSERT INTO gtfs_stage VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    }
    this.stageInsert.run(
      row.trip,
      row.sequence,
      row.stop,
      row.arrival,
      row.departure,
      row.noPickup ? 1 : 0,
      row.line,
      row.headsign,
    );
  }

  *staged(): Iterable<RawStopTime> {
    if (!this.stageInsert) return;
    this.db.exec('CREATE INDEX IF NOT EXISTS temp.gtfs_stage_order ON gtfs_stage (trip, sequence)');
    const first = this.db.prepare(
      `SELECT rowid AS id, * FROM gtfs_stage ORDER BY trip, sequence, rowid LIMIT ${STAGE_PAGE}`,
    );
    const next = this.db.prepare(
      `SELECT rowid AS id, * FROM gtfs_stage WHERE (trip, sequence, rowid) > (?, ?, ?)
       ORDER BY trip, sequence, rowid LIMIT ${STAGE_PAGE}`,
    );
    interface StageRow {
      id: number;
      trip: number;
      sequence: number;
      stop: number;
      arrival: number;
      departure: number;
      no_pickup: number;
      line: number;
      headsign: string;
    }
    let page = first.all() as StageRow[];
    while (page.length > 0) {
      for (const r of page) {
        yield {
          trip: r.trip,
          sequence: r.sequence,
          stop: r.stop,
          arrival: r.arrival,
          departure: r.departure,
          noPickup: r.no_pickup === 1,
          line: r.line,
          headsign: r.headsign,
        };
      }
      const last = page[page.length - 1];
      if (!last || page.length < STAGE_PAGE) break;
      page = next.all(last.trip, last.sequence, last.id) as StageRow[];
    }
    this.db.exec('DROP TABLE temp.gtfs_stage');
  }

  /** Everything but stop_times, which streamed in already; then the index, the summary, commit. */
  commit(feed: ParsedFeedTables, describe: () => ImportMeta): void {
    insertTables(this.db, feed);
    this.db.exec(STOP_TIMES_INDEX);
    writeImportMeta(this.db, describe());
    this.db.exec('COMMIT');
    this.open = false;
  }

  rollback(): void {
    if (!this.open) return;
    this.open = false;
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }
}

/** Keys are array position + 1, so rows can refer to each other without lookups. */
function insertTables(db: Database, feed: ParsedFeedTables): void {
  const agency = db.prepare('INSERT INTO gtfs_agencies VALUES (?, ?, ?)');
  for (const a of feed.agencies) agency.run(a.agencyId, a.name, a.timezone);

  const stop = db.prepare('INSERT INTO gtfs_stops VALUES (?, ?, ?, ?, ?, ?)');
  feed.stops.forEach((s, i) =>
    stop.run(i + 1, s.stopId, s.name.en, s.name.zh ?? null, s.parentId, s.timezone),
  );

  const route = db.prepare('INSERT INTO gtfs_routes VALUES (?, ?, ?, ?, ?, ?, ?)');
  feed.routes.forEach((r, i) =>
    route.run(
      i + 1,
      r.routeId,
      r.agencyId,
      r.shortName,
      r.longName.en,
      r.longName.zh ?? null,
      r.routeType,
    ),
  );

  const frequencyTrips = new Set(feed.frequencies.map((f) => f.tripIndex));
  const trip = db.prepare('INSERT INTO gtfs_trips VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  feed.trips.forEach((t, i) =>
    trip.run(
      i + 1,
      t.tripId,
      t.routeIndex + 1,
      t.serviceId,
      t.headsign.en,
      t.headsign.zh ?? null,
      t.firstDeparture,
      frequencyTrips.has(i) ? 1 : 0,
    ),
  );

  const frequency = db.prepare('INSERT INTO gtfs_frequencies VALUES (?, ?, ?, ?)');
  for (const f of feed.frequencies) {
    frequency.run(f.tripIndex + 1, f.startTime, f.endTime, f.headway);
  }

  const calendar = db.prepare('INSERT INTO gtfs_calendar VALUES (?, ?, ?, ?)');
  for (const c of feed.calendars) calendar.run(c.serviceId, c.weekdays, c.startDate, c.endDate);

  const calendarDate = db.prepare('INSERT INTO gtfs_calendar_dates VALUES (?, ?, ?)');
  for (const d of feed.calendarDates) calendarDate.run(d.date, d.serviceId, d.exceptionType);
}
