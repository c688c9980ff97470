/**
 * Replaces the stored feed with a parsed one in a single transaction: readers
 * see either the old schedule or the new one, never a mix, and a failure
 * anywhere leaves the old one in place.
 */
import type { Database } from 'better-sqlite3';
import { writeImportMeta } from './importMeta';
import type { ImportMeta } from './importMeta';
import type { ParsedFeed } from './parsedFeed';
import { GTFS_FEED_TABLES } from './schema';

/** describe() runs after the rows are in, so the summary it returns can time the write too. */
export function replaceFeed(db: Database, feed: ParsedFeed, describe: () => ImportMeta): void {
  db.transaction(() => {
    for (const table of GTFS_FEED_TABLES) db.prepare(`DELETE FROM ${table}`).run();
    insertFeedRows(db, feed);
    writeImportMeta(db, describe());
  })();
}

/** Keys are array position + 1, so rows can refer to each other without lookups. */
function insertFeedRows(db: Database, feed: ParsedFeed): void {
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

  const st = feed.stopTimes;
  const stopTime = db.prepare('INSERT INTO gtfs_stop_times VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (let i = 0; i < st.length; i++) {
    const headsign = st.stopHeadsign.get(i);
    stopTime.run(
      (st.tripIndex[i] ?? 0) + 1,
      (st.stopIndex[i] ?? 0) + 1,
      st.sequence[i],
      st.arrival[i],
      st.departure[i],
      st.boardable[i],
      headsign?.en ?? null,
      headsign?.zh ?? null,
    );
  }

  const frequency = db.prepare('INSERT INTO gtfs_frequencies VALUES (?, ?, ?, ?)');
  for (const f of feed.frequencies) {
    frequency.run(f.tripIndex + 1, f.startTime, f.endTime, f.headway);
  }

  const calendar = db.prepare('INSERT INTO gtfs_calendar VALUES (?, ?, ?, ?)');
  for (const c of feed.calendars) calendar.run(c.serviceId, c.weekdays, c.startDate, c.endDate);

  const calendarDate = db.prepare('INSERT INTO gtfs_calendar_dates VALUES (?, ?, ?)');
  for (const d of feed.calendarDates) calendarDate.run(d.date, d.serviceId, d.exceptionType);
}
