/**
 * The tiny demo feed in tests/fixtures/tiny-gtfs: Harbour City Transit, a
 * made-up city in Hong Kong time. From 06:00 to 24:00 a bus leaves Central
 * Station every 10 minutes (route 1 at :00/:30, 5X at :10/:40, 3 at :20/:50),
 * and night route N8 leaves it hourly from 00:20 to 05:20, so a demo started at
 * any hour of any day from 2024 to 2030 has departures to show.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import type { Zippable } from 'fflate';

export const TINY_GTFS_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'tiny-gtfs',
);

export const TINY_TIMEZONE = 'Asia/Hong_Kong';
export const TINY_AGENCY_NAME = 'Harbour City Transit';

/** The main demo stop: routes 1, 3, 5X and N8 all leave from it. */
export const STOP_CENTRAL = 'CEN';
/** Route 1's first stop. */
export const STOP_HARBOURFRONT = 'HBF';
/** Routes 1 and 3 call here; N8 only lets passengers off (pickup_type 1). */
export const STOP_MARKET = 'MKT';
/** Where routes 1 and N8 end: no departures. */
export const STOP_UNIVERSITY = 'UNI';
/** Route 3 ends here; 5X calls on its way to the airport. */
export const STOP_NORTH_POINT = 'NPT';
export const STOP_AIRPORT = 'AIR';

export const ROUTE_1 = 'R1';
export const ROUTE_3 = 'R3';
export const ROUTE_5X = 'R5X';
export const ROUTE_N8 = 'N8';

/** Route 1's last trip: Central at 24:00:00, University at 24:13:00 of the service day. */
export const TRIP_PAST_MIDNIGHT = 'R1-2355';
/** Service day on which N8 (service NIGHT) does not run (calendar_dates.txt, type 2). */
export const NIGHT_REMOVED_DATE = '20251224';
/** The only date of service RACE (calendar_dates.txt only): trip R5X-RACE, Central at 12:05. */
export const RACE_ADDED_DATE = '20251225';
export const TRIP_RACE = 'R5X-RACE';

export const TINY_COUNTS = {
  agencies: 1,
  routes: 4,
  stops: 6,
  trips: 116,
  stopTimes: 385,
  serviceStart: '20240101',
  serviceEnd: '20301231',
} as const;

/** Each fixture file's text by file name, for tests that alter a file before zipping. */
export function tinyGtfsFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(TINY_GTFS_DIR).sort()) {
    files[name] = fs.readFileSync(path.join(TINY_GTFS_DIR, name), 'utf8');
  }
  return files;
}

/** Zips files the same way every time (fixed timestamps, sorted names). */
export function zipGtfs(files: Record<string, string | Uint8Array>): Uint8Array {
  const entries: Zippable = {};
  for (const name of Object.keys(files).sort()) {
    const content = files[name];
    if (content === undefined) continue;
    entries[name] = [
      typeof content === 'string' ? strToU8(content) : content,
      { mtime: new Date('2024-01-01T00:00:00Z') },
    ];
  }
  return zipSync(entries, { level: 6 });
}

export function tinyGtfsZip(): Uint8Array {
  return zipGtfs(tinyGtfsFiles());
}
