/**
 * A feed read and checked in memory, ready to replace the stored one in a
 * single transaction. Rows refer to each other by array position, which the
 * writer turns into integer keys (position + 1).
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

/** stop_times in columns, ordered by trip then stop_sequence; times in seconds. */
export interface ParsedStopTimes {
  length: number;
  tripIndex: Int32Array;
  stopIndex: Int32Array;
  sequence: Int32Array;
  arrival: Int32Array;
  departure: Int32Array;
  /** 0 where nobody can board: the trip's last stop, or pickup_type 1. */
  boardable: Uint8Array;
  /** stop_headsign by row, only where one is given. */
  stopHeadsign: Map<number, LocalizedText>;
}

/** A frequencies.txt window: the trip repeats every headway from start until end. */
export interface ParsedFrequency {
  tripIndex: number;
  startTime: number;
  endTime: number;
  headway: number;
}

export interface ParsedFeed {
  /** The agencies' IANA zone, in which every stop_times value counts. */
  timezone: string;
  agencies: ParsedAgency[];
  stops: ParsedStop[];
  routes: ParsedRoute[];
  trips: ParsedTrip[];
  calendars: ParsedCalendar[];
  calendarDates: ParsedCalendarDate[];
  stopTimes: ParsedStopTimes;
  frequencies: ParsedFrequency[];
  /** Latest departure in seconds after service-day start (often past 24 h). */
  maxDeparture: number;
  serviceStart: string;
  serviceEnd: string;
}
