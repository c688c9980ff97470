/**
 * Calendar arithmetic on service dates held as YYYYMMDD integers, and the
 * mapping from a service date to the instant its GTFS times count from.
 */
import { DateTime } from 'luxon';

const SECONDS_PER_DAY = 86_400;

function toUtcMillis(date: number): number {
  return Date.UTC(Math.floor(date / 10000), (Math.floor(date / 100) % 100) - 1, date % 100);
}

function fromUtcMillis(millis: number): number {
  const d = new Date(millis);
  return d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export function addDays(date: number, days: number): number {
  return fromUtcMillis(toUtcMillis(date) + days * SECONDS_PER_DAY * 1000);
}

/** 0 = Monday … 6 = Sunday, the column order of calendar.txt. */
export function weekdayIndex(date: number): number {
  return (new Date(toUtcMillis(date)).getUTCDay() + 6) % 7;
}

/**
 * GTFS counts times from "noon minus 12 hours" of the service date in the
 * agency's zone, which is midnight except on DST-change days, where it is an
 * hour off midnight so that wall-clock times after the change read true.
 */
export function serviceDayStart(date: number, zone: string): number {
  const noon = DateTime.fromObject(
    {
      year: Math.floor(date / 10000),
      month: Math.floor(date / 100) % 100,
      day: date % 100,
      hour: 12,
    },
    { zone },
  );
  return Math.round(noon.toSeconds()) - 12 * 3600;
}

/** The calendar date, in the zone, on which the instant falls. */
export function localDate(epochSeconds: number, zone: string): number {
  const local = DateTime.fromSeconds(epochSeconds, { zone });
  return local.year * 10000 + local.month * 100 + local.day;
}

export function isValidZone(zone: string): boolean {
  return zone !== '' && DateTime.local({ zone }).isValid;
}
