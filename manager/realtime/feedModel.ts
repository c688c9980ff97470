/**
 * A GTFS-realtime feed as the rest of the manager reads it: plain values, epoch
 * seconds as numbers, absent fields absent (the protobuf defaults of proto2
 * optional fields are not data and are never copied here).
 */

export type FeedKind = 'tripUpdates' | 'vehiclePositions' | 'alerts';

export interface FeedHeader {
  /** Epoch seconds the producer made the feed. */
  timestamp: number;
  incrementality: 'full' | 'differential';
  version: string;
}

export type TripRelationship =
  | 'scheduled'
  | 'added'
  | 'unscheduled'
  | 'canceled'
  | 'replacement'
  | 'duplicated'
  | 'deleted'
  | 'new';

export interface TripRef {
  tripId?: string;
  routeId?: string;
  directionId?: number;
  /** "HH:MM:SS", may pass 24:00:00. */
  startTime?: string;
  /** YYYYMMDD as an integer. */
  startDate?: number;
  relationship: TripRelationship;
}

export interface StopTimeEvent {
  time?: number;
  delay?: number;
}

export interface StopTimeUpdate {
  stopSequence?: number;
  stopId?: string;
  arrival?: StopTimeEvent;
  departure?: StopTimeEvent;
  relationship: 'scheduled' | 'skipped' | 'no-data' | 'unscheduled';
}

export interface TripUpdate {
  entityId: string;
  trip: TripRef;
  stopTimeUpdates: StopTimeUpdate[];
  /** When the vehicle's progress was measured, epoch seconds. */
  timestamp?: number;
  delay?: number;
}

export type VehicleStopStatus = 'incoming-at' | 'stopped-at' | 'in-transit-to';

export interface VehiclePosition {
  entityId: string;
  trip?: TripRef;
  currentStopSequence?: number;
  stopId?: string;
  status: VehicleStopStatus;
  /** The raw GTFS-realtime OccupancyStatus number, when given. */
  occupancy?: number;
  timestamp?: number;
}

export interface Translation {
  text: string;
  language?: string;
}

export interface InformedEntity {
  agencyId?: string;
  routeId?: string;
  routeType?: number;
  stopId?: string;
  tripId?: string;
  directionId?: number;
}

export interface ServiceAlert {
  entityId: string;
  activePeriods: { start?: number; end?: number }[];
  informedEntities: InformedEntity[];
  header: Translation[];
  description: Translation[];
  effect?: string;
}

export interface RealtimeFeed {
  header: FeedHeader;
  tripUpdates: TripUpdate[];
  vehicles: VehiclePosition[];
  alerts: ServiceAlert[];
  /** Entity ids the producer deleted (differential feeds). */
  deletedIds: string[];
  entityCount: number;
  /** Control and bidi characters removed from the feed's texts. */
  textCharactersRemoved: number;
}
