import type { LocalizedText, ScheduledDeparture } from '../../shared';

export interface StopInfo {
  stopId: string;
  name: LocalizedText;
  /** IANA zone: stop_timezone, else the agency's. */
  timezone: string;
}

export interface ImportSummary {
  source: string;
  importedAt: number;
  agencies: number;
  routes: number;
  stops: number;
  trips: number;
  stopTimes: number;
  /** First and last service dates, YYYYMMDD. */
  serviceStart: string;
  serviceEnd: string;
  /** Rows skipped with the reason, e.g. "stop_times.txt line 12: departure_time 'x'". Capped. */
  warnings: string[];
  durationMs: number;
}

/** What the rest of the manager needs from the schedule. */
export interface ScheduleSource {
  hasSchedule(): boolean;
  stop(stopId: string): StopInfo | undefined;
  /**
   * Departures at the stop with fromEpoch <= time < untilEpoch, ascending by
   * time. Asynchronous: a big stop's slice is worked out off the event loop.
   */
  departures(
    stopId: string,
    fromEpoch: number,
    untilEpoch: number,
    limit?: number,
  ): Promise<ScheduledDeparture[]>;
  summary(): ImportSummary | undefined;
  /** The zone the timetable's times count in; undefined before the first import. */
  timezone(): string | undefined;
  /** Every stop the route's trips call at, sorted; undefined when the timetable has no such route. */
  routeStops(routeId: string): string[] | undefined;
}
