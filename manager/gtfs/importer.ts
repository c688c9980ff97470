/**
 * Imports a GTFS zip into the gtfs_ tables. The small files are read and
 * checked in memory first; stop_times then streams into the database inside
 * the replacing transaction. Any refusal (a broken file, a limit passed) rolls
 * the transaction back, so the previous schedule stays in force.
 */
import type { Database } from 'better-sqlite3';
import type { FeedTables } from './csvTables';
import { readCsv } from './csvTables';
import { GtfsImportError } from './errors';
import { FeedWriter } from './feedWriter';
import type { ImportLimits } from './importLimits';
import type { ImportMeta } from './importMeta';
import { ImportWarnings } from './importWarnings';
import type { ParsedFeedTables, ParsedFrequency } from './parsedFeed';
import { readAgencies, readRoutes, readStops } from './readBaseTables';
import { readCalendars } from './readCalendars';
import { readFrequencies } from './readFrequencies';
import { readStopTimes, type StopTimesResult } from './readStopTimes';
import { readTrips, settleHeadsigns } from './readTrips';
import { readChineseTranslations } from './translations';
import type { ImportSummary } from './types';
import { GtfsZip } from './zipArchive';

const REQUIRED_FILES = ['agency.txt', 'stops.txt', 'routes.txt', 'trips.txt', 'stop_times.txt'];
const OPTIONAL_FILES = [
  'calendar.txt',
  'calendar_dates.txt',
  'translations.txt',
  'frequencies.txt',
];

/**
 * Reads only the zip's directory and checks it against the limits (entries,
 * declared sizes, ratios): a bomb is refused in milliseconds, before an import
 * process is even started. Rejects like importGtfsZip.
 */
export async function checkGtfsZip(input: ZipInput, limits: ImportLimits): Promise<void> {
  const zip = await GtfsZip.open(input, [...REQUIRED_FILES, ...OPTIONAL_FILES], limits);
  zip.close();
}

/** A zip file's path, or its bytes. */
export type ZipInput = string | Uint8Array;

export async function importGtfsZip(
  db: Database,
  input: ZipInput,
  source: string,
  limits: ImportLimits,
  beforeCommit?: (feed: ParsedFeedTables) => void,
): Promise<ImportMeta> {
  const started = performance.now();
  const zip = await GtfsZip.open(input, [...REQUIRED_FILES, ...OPTIONAL_FILES], limits);
  let writer: FeedWriter | undefined;
  try {
    for (const name of REQUIRED_FILES) {
      if (!zip.has(name)) throw new GtfsImportError(`${name} is missing from the feed`);
    }
    const tables = feedTables(zip, limits);
    const warnings = new ImportWarnings();
    const zh = await readChineseTranslations(tables, warnings);
    const { agencies, timezone } = await readAgencies(tables, warnings);
    const stops = await readStops(tables, zh, warnings);
    const routes = await readRoutes(tables, zh, warnings);
    const service = await readCalendars(tables, warnings);
    const trips = await readTrips(tables, routes.indexById, service.serviceIds, zh, warnings);

    writer = new FeedWriter(db);
    const stopTimes = await readStopTimes(tables, {
      tripIndexById: trips.indexById,
      stopIndexById: stops.indexById,
      tripIds: trips.trips.map((t) => t.tripId),
      zh,
      warnings,
      sink: writer,
    });
    const frequencies = await readFrequencies(tables, trips.indexById, warnings);
    const feed = {
      agencies,
      stops: stops.stops,
      routes: routes.routes,
      trips: settleHeadsigns(trips.trips, routes.routes, stops.stops, stopTimes),
      calendars: service.calendars,
      calendarDates: service.calendarDates,
      frequencies,
    };
    // The last word before the new feed replaces the old one.
    beforeCommit?.(feed);
    const meta: ImportMeta = {
      timezone,
      maxDeparture: latestDeparture(stopTimes, frequencies),
      summary: {
        source,
        importedAt: Math.floor(Date.now() / 1000),
        agencies: agencies.length,
        routes: routes.routes.length,
        stops: stops.stops.length,
        trips: trips.trips.length,
        stopTimes: stopTimes.rows,
        serviceStart: service.serviceStart,
        serviceEnd: service.serviceEnd,
        warnings: warnings.toList(),
        durationMs: 0,
      } satisfies ImportSummary,
    };
    // The summary is written inside the transaction, so it times the whole write too.
    writer.commit(feed, () => {
      meta.summary.durationMs = Math.round(performance.now() - started);
      return meta;
    });
    return meta;
  } catch (error) {
    writer?.rollback();
    throw error;
  } finally {
    zip.close();
  }
}

function feedTables(zip: GtfsZip, limits: ImportLimits): FeedTables {
  return {
    has: (file) => zip.has(file),
    read: async (file, spec, visit, options = {}) =>
      readCsv(file, await zip.stream(file), spec, visit, {
        maxRows: file === 'stop_times.txt' ? limits.maxStopTimesRows : limits.maxRowsPerFile,
        ...options,
      }),
  };
}

/** How far past its service-day start a departure can fall, frequency-based trips included. */
function latestDeparture(stopTimes: StopTimesResult, frequencies: ParsedFrequency[]): number {
  let latest = stopTimes.maxDeparture;
  for (const f of frequencies) {
    const first = stopTimes.firstDepartureOfTrip[f.tripIndex] ?? 0;
    const last = stopTimes.lastDepartureOfTrip[f.tripIndex] ?? 0;
    latest = Math.max(latest, f.endTime + last - first);
  }
  return latest;
}
