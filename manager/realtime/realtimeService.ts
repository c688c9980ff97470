/**
 * Holds the newest realtime feed of each kind, turns it into predictions, and
 * says how healthy each feed is. Feeds arrive from the pollers or from
 * POST /api/realtime; both go through ingest().
 */
import type { Logger } from 'pino';
import type { AgencyAlert, ManagerHeartbeatData } from '../../shared';
import { alertsForStop } from './alertMatcher';
import type { RealtimeView } from './arrivalBoards';
import { decodeFeed } from './feedDecoder';
import type {
  FeedHeader,
  FeedKind,
  RealtimeFeed,
  ServiceAlert,
  TripUpdate,
  VehiclePosition,
} from './feedModel';
import { buildPredictions, type MatchStats, type PredictionSet } from './predictionEngine';
import type { StaticLookup } from './staticLookup';
import { placeVehicles, type VehicleOnTrip } from './vehicleProgress';

export const FEED_KINDS: readonly FeedKind[] = ['tripUpdates', 'vehiclePositions', 'alerts'];

export interface FeedReport {
  kind: FeedKind;
  source: string | null;
  /** Epoch seconds of the last attempt to get the feed (fetch or push). */
  lastFetchAt: number | null;
  /** Epoch seconds the feed last changed (a 304 does not count). */
  lastUpdateAt: number | null;
  headerTimestamp: number | null;
  headerAgeSeconds: number | null;
  /** Fresh enough for its predictions to count as live. */
  live: boolean;
  entities: number;
  tripUpdates: number;
  tripsMatched: number;
  /** Share of trip updates matched to the timetable, 0-1; null without trip updates. */
  tripMatchRate: number | null;
  stopIdsNamed: number;
  stopIdsMatched: number;
  unmatchedTripIds: string[];
  notModified: number;
  failures: number;
  lastError: string | null;
  /** Why boards are not live from this feed right now; null when they are (or it is not a trip feed). */
  reason: string | null;
}

export interface IngestResult {
  ok: boolean;
  /** Kinds the feed carried; an empty feed counts as the kind it was sent for. */
  kinds: FeedKind[];
  reason?: string;
}

interface FeedSlot {
  source: string | null;
  lastFetchAt: number | null;
  lastUpdateAt: number | null;
  header: FeedHeader | null;
  entities: Map<string, TripUpdate | VehiclePosition | ServiceAlert>;
  notModified: number;
  failures: number;
  lastError: string | null;
}

export interface RealtimeServiceOptions {
  lookup: StaticLookup;
  /** The timetable's zone, read when predictions are built. */
  timezone: () => string | undefined;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  /** A feed whose header is older than this is stale: its predictions are not live. */
  staleAfterSeconds: number;
}

const emptySlot = (): FeedSlot => ({
  source: null,
  lastFetchAt: null,
  lastUpdateAt: null,
  header: null,
  entities: new Map(),
  notModified: 0,
  failures: 0,
  lastError: null,
});

const EMPTY_STATS: MatchStats = {
  tripUpdates: 0,
  tripsMatched: 0,
  tripsUnmatched: 0,
  stopIdsNamed: 0,
  stopIdsMatched: 0,
  unmatchedTripIds: [],
};

export class RealtimeService {
  private readonly slots = new Map<FeedKind, FeedSlot>(FEED_KINDS.map((k) => [k, emptySlot()]));
  private predictions: PredictionSet | null = null;
  private vehicles = new Map<string, VehicleOnTrip>();

  constructor(private readonly options: RealtimeServiceOptions) {}

  private now(): number {
    return Math.floor(this.options.clock() / 1000);
  }

  private slot(kind: FeedKind): FeedSlot {
    return this.slots.get(kind)!;
  }

  /** Whether any feed was ever configured or received. */
  get active(): boolean {
    return [...this.slots.values()].some((s) => s.source !== null);
  }

  /** Names the source of a feed before its first fetch, so the report lists it. */
  configure(kind: FeedKind, source: string): void {
    this.slot(kind).source = source;
  }

  /**
   * Takes a protobuf body. `expected` is the kind it was fetched or pushed as
   * ('combined' when one feed may carry several). A body that does not decode
   * changes nothing but the reported error.
   */
  ingest(bytes: Uint8Array, source: string, expected: FeedKind | 'combined'): IngestResult {
    const now = this.now();
    const decoded = decodeFeed(bytes);
    const blamed: FeedKind[] = expected === 'combined' ? ['tripUpdates'] : [expected];
    if (!decoded.ok) {
      for (const kind of blamed) {
        const slot = this.slot(kind);
        Object.assign(slot, { source, lastFetchAt: now, lastError: decoded.reason });
        slot.failures += 1;
      }
      this.options.logger.warn({ source, reason: decoded.reason }, 'realtime feed rejected');
      return { ok: false, kinds: blamed, reason: decoded.reason };
    }
    const feed = decoded.feed;
    if (feed.textCharactersRemoved > 0) {
      this.options.logger.warn(
        { source, removed: feed.textCharactersRemoved },
        'control or bidi characters removed from the feed’s texts',
      );
    }
    const kinds = this.kindsIn(feed, expected);
    for (const kind of kinds) this.store(kind, feed, source, now);
    if (kinds.includes('tripUpdates') || kinds.includes('vehiclePositions')) this.rebuild(now);
    return { ok: true, kinds };
  }

  /** A poll that found the feed unchanged (HTTP 304). */
  notModified(kind: FeedKind | 'combined'): void {
    const now = this.now();
    for (const k of kind === 'combined' ? FEED_KINDS : [kind]) {
      const slot = this.slot(k);
      slot.lastFetchAt = now;
      slot.notModified += 1;
    }
  }

  /** A poll that failed (network, timeout, HTTP error). */
  failed(kind: FeedKind | 'combined', source: string, reason: string): void {
    const now = this.now();
    for (const k of kind === 'combined' ? (['tripUpdates'] as const) : [kind]) {
      const slot = this.slot(k);
      Object.assign(slot, { source, lastFetchAt: now, lastError: reason });
      slot.failures += 1;
    }
  }

  private kindsIn(feed: RealtimeFeed, expected: FeedKind | 'combined'): FeedKind[] {
    const kinds: FeedKind[] = [];
    if (feed.tripUpdates.length > 0) kinds.push('tripUpdates');
    if (feed.vehicles.length > 0) kinds.push('vehiclePositions');
    if (feed.alerts.length > 0) kinds.push('alerts');
    if (expected !== 'combined' && !kinds.includes(expected)) kinds.push(expected);
    if (kinds.length === 0) kinds.push('tripUpdates');
    return kinds;
  }

  private store(kind: FeedKind, feed: RealtimeFeed, source: string, now: number): void {
    const slot = this.slot(kind);
    const entities: (TripUpdate | VehiclePosition | ServiceAlert)[] =
      kind === 'tripUpdates'
        ? feed.tripUpdates
        : kind === 'vehiclePositions'
          ? feed.vehicles
          : feed.alerts;
    // A full dataset replaces everything: a trip it leaves out has no live data any more.
    if (feed.header.incrementality === 'full') slot.entities.clear();
    for (const id of feed.deletedIds) slot.entities.delete(id);
    for (const entity of entities) slot.entities.set(entity.entityId, entity);
    Object.assign(slot, {
      source,
      lastFetchAt: now,
      lastUpdateAt: now,
      header: feed.header,
      failures: 0,
      lastError: null,
    });
  }

  private rebuild(now: number): void {
    const timezone = this.options.timezone();
    const trips = this.slot('tripUpdates');
    if (!timezone || !trips.header) {
      this.predictions = null;
    } else {
      const started = performance.now();
      this.predictions = buildPredictions([...trips.entities.values()] as TripUpdate[], {
        lookup: this.options.lookup,
        timezone,
        now,
        feedTimestamp: trips.header.timestamp,
        staleAfterSeconds: this.options.staleAfterSeconds,
      });
      this.options.logger.debug(
        {
          ms: Math.round(performance.now() - started),
          ...this.predictions.stats,
          unmatchedTripIds: undefined,
        },
        'predictions built',
      );
    }
    const vehicles = this.slot('vehiclePositions');
    this.vehicles = this.isFresh(vehicles, now)
      ? placeVehicles([...vehicles.entities.values()] as VehiclePosition[], this.options.lookup)
      : new Map<string, VehicleOnTrip>();
  }

  /** The timetable changed: trips are matched again against the new one. */
  scheduleChanged(): void {
    this.options.lookup.clear();
    this.rebuild(this.now());
  }

  private isFresh(slot: FeedSlot, now: number): boolean {
    return slot.header !== null && now - slot.header.timestamp <= this.options.staleAfterSeconds;
  }

  /** What boards are built from now: no predictions at all unless the trip feed is fresh. */
  view(): RealtimeView {
    const now = this.now();
    const trips = this.slot('tripUpdates');
    if (!this.predictions || !this.isFresh(trips, now)) {
      return { predictions: null, vehicles: new Map<string, VehicleOnTrip>() };
    }
    const vehicles = this.isFresh(this.slot('vehiclePositions'), now)
      ? this.vehicles
      : new Map<string, VehicleOnTrip>();
    return { predictions: this.predictions, vehicles, feedTimestamp: trips.header!.timestamp };
  }

  alertsFor(stopId: string): AgencyAlert[] {
    const slot = this.slot('alerts');
    if (!slot.header) return [];
    return alertsForStop(
      stopId,
      [...slot.entities.values()] as ServiceAlert[],
      this.options.lookup,
      this.now(),
    );
  }

  heartbeat(): ManagerHeartbeatData {
    const now = this.now();
    const trips = this.slot('tripUpdates');
    const data: ManagerHeartbeatData = { checkedAt: now, live: this.view().predictions !== null };
    if (trips.header) data.feedTimestamp = trips.header.timestamp;
    return data;
  }

  /** Share of trip updates matched to the timetable; null when none arrived. */
  tripMatchRate(): number | null {
    const stats = this.predictions?.stats;
    if (!stats || stats.tripUpdates === 0) return null;
    return stats.tripsMatched / stats.tripUpdates;
  }

  private notLiveBecause(slot: FeedSlot, now: number): string | null {
    const limit = this.options.staleAfterSeconds;
    if (!slot.header) {
      return slot.lastError
        ? `no usable feed yet (${slot.lastError}): boards show the timetable`
        : 'no feed received: boards show the timetable';
    }
    const age = now - slot.header.timestamp;
    if (age > limit) {
      return `stale: header is ${age} s old (limit ${limit} s): boards show the timetable`;
    }
    if (slot.entities.size === 0) {
      return 'the feed has no trip updates: every board shows the timetable';
    }
    return null;
  }

  report(): FeedReport[] {
    const now = this.now();
    return FEED_KINDS.map((kind) => {
      const slot = this.slot(kind);
      const stats = kind === 'tripUpdates' ? (this.predictions?.stats ?? EMPTY_STATS) : EMPTY_STATS;
      const header = slot.header;
      return {
        kind,
        source: slot.source,
        lastFetchAt: slot.lastFetchAt,
        lastUpdateAt: slot.lastUpdateAt,
        headerTimestamp: header?.timestamp ?? null,
        headerAgeSeconds: header ? now - header.timestamp : null,
        live: this.isFresh(slot, now),
        entities: slot.entities.size,
        tripUpdates: stats.tripUpdates,
        tripsMatched: stats.tripsMatched,
        tripMatchRate: stats.tripUpdates > 0 ? stats.tripsMatched / stats.tripUpdates : null,
        stopIdsNamed: stats.stopIdsNamed,
        stopIdsMatched: stats.stopIdsMatched,
        unmatchedTripIds: stats.unmatchedTripIds,
        notModified: slot.notModified,
        failures: slot.failures,
        lastError: slot.lastError,
        reason: kind === 'tripUpdates' ? this.notLiveBecause(slot, now) : null,
      };
    });
  }
}
