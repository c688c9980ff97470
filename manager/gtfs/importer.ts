/**
 * Reads a whole GTFS zip into memory and checks it, touching no database, so a
 * bad feed is refused before anything stored is replaced.
 */
import { GtfsImportError } from './errors';
import { ImportWarnings } from './importWarnings';
import type { ParsedFeed, ParsedFrequency } from './parsedFeed';
import { readAgencies, readRoutes, readStops } from './readBaseTables';
import { readCalendars } from './readCalendars';
import { readFrequencies } from './readFrequencies';
import { readStopTimes } from './readStopTimes';
import type { StopTimesResult } from './readStopTimes';
import { readTrips, settleHeadsigns } from './readTrips';
import { readChineseTranslations } from './translations';
import { readZipTextFiles } from './zipReader';

const REQUIRED_FILES = ['agency.txt', 'stops.txt', 'routes.txt', 'trips.txt', 'stop_times.txt'];
const OPTIONAL_FILES = [
  'calendar.txt',
  'calendar_dates.txt',
  'translations.txt',
  'frequencies.txt',
];

export interface ParseResult {
  feed: ParsedFeed;
  warnings: ImportWarnings;
}

export function parseGtfsZip(bytes: Uint8Array): ParseResult {
  const files = readZipTextFiles(bytes, [...REQUIRED_FILES, ...OPTIONAL_FILES]);
  const file = (name: string): string => {
    const text = files.get(name);
    if (text === undefined) throw new GtfsImportError(`${name} is missing from the feed`);
    return text;
  };
  for (const name of REQUIRED_FILES) file(name);
  // Some feeds ship an empty calendar.txt beside a full calendar_dates.txt: empty means absent.
  const optional = (name: string): string | undefined => {
    const text = files.get(name);
    return text === undefined || text.replace(/^\uFEFF/, '').trim() === '' ? undefined : text;
  };

  const warnings = new ImportWarnings();
  const zh = readChineseTranslations(optional('translations.txt'), warnings);
  const { agencies, timezone } = readAgencies(file('agency.txt'), warnings);
  const stops = readStops(file('stops.txt'), zh, warnings);
  const routes = readRoutes(file('routes.txt'), zh, warnings);
  const service = readCalendars(optional('calendar.txt'), optional('calendar_dates.txt'), warnings);
  const trips = readTrips(file('trips.txt'), routes.indexById, service.serviceIds, zh, warnings);
  const stopTimes = readStopTimes(
    file('stop_times.txt'),
    trips.indexById,
    stops.indexById,
    trips.trips.map((t) => t.tripId),
    zh,
    warnings,
  );
  const frequencies = readFrequencies(optional('frequencies.txt'), trips.indexById, warnings);

  const feed: ParsedFeed = {
    timezone,
    agencies,
    stops: stops.stops,
    routes: routes.routes,
    trips: settleHeadsigns(trips.trips, routes.routes, stops.stops, stopTimes),
    calendars: service.calendars,
    calendarDates: service.calendarDates,
    stopTimes: stopTimes.stopTimes,
    frequencies,
    maxDeparture: latestDeparture(stopTimes, frequencies),
    serviceStart: service.serviceStart,
    serviceEnd: service.serviceEnd,
  };
  return { feed, warnings };
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
