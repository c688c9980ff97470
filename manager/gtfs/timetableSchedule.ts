/**
 * The schedule as the rest of the manager sees it: stop names and the import
 * summary from the manager's own connection (single indexed rows), departures
 * from a lookup that may run elsewhere (the departures query thread).
 */
import type { ScheduledDeparture } from '../../shared';
import type { GtfsStore } from './gtfsStore';
import type { ImportSummary, ScheduleSource, StopInfo } from './types';

export interface DepartureLookup {
  departures(
    stopId: string,
    fromEpoch: number,
    untilEpoch: number,
    limit?: number,
  ): Promise<ScheduledDeparture[]>;
  /** A new feed was committed: answer from it. */
  reload(): void;
}

export class TimetableSchedule implements ScheduleSource {
  constructor(
    private readonly store: GtfsStore,
    private readonly lookup: DepartureLookup,
  ) {}

  /** Picks up a feed that another connection (the import process) committed. */
  reload(): void {
    this.store.reload();
    this.lookup.reload();
  }

  hasSchedule(): boolean {
    return this.store.hasSchedule();
  }

  stop(stopId: string): StopInfo | undefined {
    return this.store.stop(stopId);
  }

  departures(
    stopId: string,
    fromEpoch: number,
    untilEpoch: number,
    limit?: number,
  ): Promise<ScheduledDeparture[]> {
    if (!this.store.hasSchedule()) return Promise.resolve([]);
    return this.lookup.departures(stopId, fromEpoch, untilEpoch, limit);
  }

  summary(): ImportSummary | undefined {
    return this.store.summary();
  }

  timezone(): string | undefined {
    return this.store.timezone();
  }

  /** Once per route announcement posted, so it stays on the manager's own connection. */
  routeStops(routeId: string): string[] | undefined {
    return this.store.routeStops(routeId);
  }
}
