/**
 * The small tables of a feed, read and checked in memory; stop_times stream
 * past them into the database. Rows refer to each other by array position,
 * which the writer turns into integer keys (position + 1).
 */
import type { LocalizedText } from '../../shared';

export interface ParsedAgency {
  agencyId: string;
  name: string;
  timezone: string;
}

export interface ParsedStop {
  stopId: string;
  name: LocalizedText;
  parentId: string;
  /** stop_timezone (or its station's); '' to use the feed's. */
  timezone: string;
}

export interface ParsedRoute {
  routeId: string;
  agencyId: string;
  shortName: string;
  longName: LocalizedText;
  routeType: number | null;
}

export interface ParsedTrip {
  tripId: string;
  routeIndex: number;
  serviceId: string;
  /** trip_headsign, else the route's long name, else the last stop's name. */
  headsign: LocalizedText;
  /** Departure at the first stop; frequency-based trips shift all times by start − this. */
  firstDeparture: number;
}

export interface ParsedCalendar {
  serviceId: string;
  /** Bit 0 = Monday … bit 6 = Sunday. */
  weekdays: number;
  startDate: number;
  endDate: number;
}

export interface ParsedCalendarDate {
  serviceId: string;
  date: number;
  /** 1 adds the service on the date, 2 removes it. */
  exceptionType: 1 | 2;
}

/** A frequencies.txt window: the trip repeats every headway from start until end. */
export interface ParsedFrequency {
  tripIndex: number;
  startTime: number;
  endTime: number;
  headway: number;
}

/** What the writer stores after stop_times, which streams straight into the database. */
export interface ParsedFeedTables {
  agencies: ParsedAgency[];
  stops: ParsedStop[];
  routes: ParsedRoute[];
  trips: ParsedTrip[];
  calendars: ParsedCalendar[];
  calendarDates: ParsedCalendarDate[];
  frequencies: ParsedFrequency[];
}
