/**
 * Decodes GTFS-realtime protobuf with the official bindings and copies out only
 * the fields that were present on the wire. Never throws: a broken feed comes
 * back as a reason that GET /api/realtime can show.
 */
import bindings from 'gtfs-realtime-bindings';
import { stripForbidden } from '../../shared';
import type {
  FeedHeader,
  InformedEntity,
  RealtimeFeed,
  ServiceAlert,
  StopTimeEvent,
  StopTimeUpdate,
  Translation,
  TripRef,
  TripRelationship,
  TripUpdate,
  VehiclePosition,
  VehicleStopStatus,
} from './feedModel';

const rt = bindings.transit_realtime;
type Pb = Record<string, unknown>;

export type DecodeFeedResult = { ok: true; feed: RealtimeFeed } | { ok: false; reason: string };

/** proto2 optional fields read their default from the prototype when absent: only own ones count. */
const has = (o: object, field: string): boolean => Object.prototype.hasOwnProperty.call(o, field);

function num(o: Pb, field: string): number | undefined {
  if (!has(o, field)) return undefined;
  const v = o[field];
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && 'toNumber' in v) {
    return (v as { toNumber(): number }).toNumber();
  }
  return undefined;
}

function str(o: Pb, field: string): string | undefined {
  if (!has(o, field)) return undefined;
  const v = o[field];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function child(o: Pb, field: string): Pb | undefined {
  if (!has(o, field)) return undefined;
  const v = o[field];
  return v !== null && typeof v === 'object' ? (v as Pb) : undefined;
}

function list(o: Pb, field: string): Pb[] {
  const v = o[field];
  return Array.isArray(v) ? (v as Pb[]) : [];
}

const TRIP_RELATIONSHIPS: Record<number, TripRelationship> = {
  0: 'scheduled',
  1: 'added',
  2: 'unscheduled',
  3: 'canceled',
  5: 'replacement',
  6: 'duplicated',
  7: 'deleted',
  8: 'new',
};

const STOP_RELATIONSHIPS: Record<number, StopTimeUpdate['relationship']> = {
  0: 'scheduled',
  1: 'skipped',
  2: 'no-data',
  3: 'unscheduled',
};

const VEHICLE_STATUS: Record<number, VehicleStopStatus> = {
  0: 'incoming-at',
  1: 'stopped-at',
  2: 'in-transit-to',
};

function parseDate(text: string | undefined): number | undefined {
  if (!text || !/^\d{8}$/.test(text)) return undefined;
  return Number(text);
}

function tripRef(o: Pb): TripRef {
  const ref: TripRef = {
    relationship: TRIP_RELATIONSHIPS[num(o, 'scheduleRelationship') ?? 0] ?? 'scheduled',
  };
  const tripId = str(o, 'tripId');
  const routeId = str(o, 'routeId');
  const directionId = num(o, 'directionId');
  const startTime = str(o, 'startTime');
  const startDate = parseDate(str(o, 'startDate'));
  if (tripId !== undefined) ref.tripId = tripId;
  if (routeId !== undefined) ref.routeId = routeId;
  if (directionId !== undefined) ref.directionId = directionId;
  if (startTime !== undefined) ref.startTime = startTime;
  if (startDate !== undefined) ref.startDate = startDate;
  return ref;
}

function stopTimeEvent(o: Pb | undefined): StopTimeEvent | undefined {
  if (!o) return undefined;
  const time = num(o, 'time');
  const delay = num(o, 'delay');
  if (time === undefined && delay === undefined) return undefined;
  const event: StopTimeEvent = {};
  // A time of 0 is the protobuf default some producers write out; it is not 1970.
  if (time !== undefined && time > 0) event.time = time;
  if (delay !== undefined) event.delay = delay;
  return event;
}

function stopTimeUpdate(o: Pb): StopTimeUpdate {
  const update: StopTimeUpdate = {
    relationship: STOP_RELATIONSHIPS[num(o, 'scheduleRelationship') ?? 0] ?? 'scheduled',
  };
  const stopSequence = num(o, 'stopSequence');
  const stopId = str(o, 'stopId');
  const arrival = stopTimeEvent(child(o, 'arrival'));
  const departure = stopTimeEvent(child(o, 'departure'));
  if (stopSequence !== undefined) update.stopSequence = stopSequence;
  if (stopId !== undefined) update.stopId = stopId;
  if (arrival) update.arrival = arrival;
  if (departure) update.departure = departure;
  return update;
}

function tripUpdate(entityId: string, o: Pb): TripUpdate {
  const update: TripUpdate = {
    entityId,
    trip: tripRef(child(o, 'trip') ?? {}),
    stopTimeUpdates: list(o, 'stopTimeUpdate').map(stopTimeUpdate),
  };
  const timestamp = num(o, 'timestamp');
  const delay = num(o, 'delay');
  if (timestamp !== undefined && timestamp > 0) update.timestamp = timestamp;
  if (delay !== undefined) update.delay = delay;
  return update;
}

function vehicle(entityId: string, o: Pb): VehiclePosition {
  const trip = child(o, 'trip');
  const position: VehiclePosition = {
    entityId,
    // The spec's default when current_status is absent.
    status: VEHICLE_STATUS[num(o, 'currentStatus') ?? 2] ?? 'in-transit-to',
  };
  if (trip) position.trip = tripRef(trip);
  const seq = num(o, 'currentStopSequence');
  const stopId = str(o, 'stopId');
  const occupancy = num(o, 'occupancyStatus');
  const timestamp = num(o, 'timestamp');
  if (seq !== undefined) position.currentStopSequence = seq;
  if (stopId !== undefined) position.stopId = stopId;
  if (occupancy !== undefined) position.occupancy = occupancy;
  if (timestamp !== undefined && timestamp > 0) position.timestamp = timestamp;
  return position;
}

/** Characters removed from the feed's texts while decoding (shared/text.ts), for a warning. */
interface Cleaning {
  removed: number;
}

/** Agency text reaches the glass: control and bidi characters are removed on the way in. */
function translations(o: Pb | undefined, cleaning: Cleaning): Translation[] {
  if (!o) return [];
  return list(o, 'translation').flatMap((t) => {
    const raw = str(t, 'text');
    if (raw === undefined) return [];
    const { text, removed } = stripForbidden(raw);
    cleaning.removed += removed;
    const language = str(t, 'language');
    return [language === undefined ? { text } : { text, language }];
  });
}

function informedEntity(o: Pb): InformedEntity {
  const entity: InformedEntity = {};
  const agencyId = str(o, 'agencyId');
  const routeId = str(o, 'routeId');
  const routeType = num(o, 'routeType');
  const stopId = str(o, 'stopId');
  const directionId = num(o, 'directionId');
  const trip = child(o, 'trip');
  const tripId = trip ? str(trip, 'tripId') : undefined;
  if (agencyId !== undefined) entity.agencyId = agencyId;
  if (routeId !== undefined) entity.routeId = routeId;
  if (routeType !== undefined) entity.routeType = routeType;
  if (stopId !== undefined) entity.stopId = stopId;
  if (directionId !== undefined) entity.directionId = directionId;
  if (tripId !== undefined) entity.tripId = tripId;
  return entity;
}

function alert(entityId: string, o: Pb, cleaning: Cleaning): ServiceAlert {
  const effect = num(o, 'effect');
  const result: ServiceAlert = {
    entityId,
    activePeriods: list(o, 'activePeriod').map((p) => {
      const period: { start?: number; end?: number } = {};
      const start = num(p, 'start');
      const end = num(p, 'end');
      if (start !== undefined && start > 0) period.start = start;
      if (end !== undefined && end > 0) period.end = end;
      return period;
    }),
    informedEntities: list(o, 'informedEntity').map(informedEntity),
    header: translations(child(o, 'headerText'), cleaning),
    description: translations(child(o, 'descriptionText'), cleaning),
  };
  if (effect !== undefined) result.effect = rt.Alert.Effect[effect] ?? String(effect);
  return result;
}

function header(o: Pb): FeedHeader | string {
  const timestamp = num(o, 'timestamp');
  if (timestamp === undefined || timestamp <= 0) return 'feed header has no timestamp';
  return {
    timestamp,
    incrementality: num(o, 'incrementality') === 1 ? 'differential' : 'full',
    version: str(o, 'gtfsRealtimeVersion') ?? '',
  };
}

export function decodeFeed(bytes: Uint8Array): DecodeFeedResult {
  if (bytes.byteLength === 0) return { ok: false, reason: 'empty body: not a GTFS-realtime feed' };
  let message: Pb;
  try {
    message = rt.FeedMessage.decode(bytes) as unknown as Pb;
  } catch (err) {
    return { ok: false, reason: `not a GTFS-realtime feed: ${(err as Error).message}` };
  }
  const head = header(child(message, 'header') ?? {});
  if (typeof head === 'string') return { ok: false, reason: head };
  const feed: RealtimeFeed = {
    header: head,
    tripUpdates: [],
    vehicles: [],
    alerts: [],
    deletedIds: [],
    entityCount: 0,
    textCharactersRemoved: 0,
  };
  const cleaning: Cleaning = { removed: 0 };
  for (const entity of list(message, 'entity')) {
    feed.entityCount += 1;
    const id = str(entity, 'id') ?? `#${feed.entityCount}`;
    if (entity.isDeleted === true) {
      feed.deletedIds.push(id);
      continue;
    }
    const tu = child(entity, 'tripUpdate');
    const vp = child(entity, 'vehicle');
    const al = child(entity, 'alert');
    if (tu) feed.tripUpdates.push(tripUpdate(id, tu));
    if (vp) feed.vehicles.push(vehicle(id, vp));
    if (al) feed.alerts.push(alert(id, al, cleaning));
  }
  feed.textCharactersRemoved = cleaning.removed;
  return { ok: true, feed };
}

/** The bare decode, for the benchmark's floor. */
export function decodeBare(bytes: Uint8Array): unknown {
  return rt.FeedMessage.decode(bytes);
}
