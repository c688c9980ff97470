/**
 * VehiclePositions placed on their trips: where along the trip each vehicle is
 * and how crowded it is, so a row can say "2 stops away" or "at the stop", and
 * a bus already past a stop leaves that stop's board.
 */
import type { CrowdingLevel } from '../../shared';
import type { VehiclePosition, VehicleStopStatus } from './feedModel';
import type { StaticLookup } from './staticLookup';

export interface VehicleOnTrip {
  /** Index in the trip's stop list of the stop the vehicle is at or heading to. */
  stopIndex: number;
  status: VehicleStopStatus;
  crowding?: CrowdingLevel;
}

/** GTFS-realtime OccupancyStatus → what a passenger can act on; NO_DATA and NOT_BOARDABLE say nothing. */
const CROWDING: Record<number, CrowdingLevel> = {
  0: 'seats', // EMPTY
  1: 'seats', // MANY_SEATS_AVAILABLE
  2: 'seats', // FEW_SEATS_AVAILABLE
  3: 'standing', // STANDING_ROOM_ONLY
  4: 'standing', // CRUSHED_STANDING_ROOM_ONLY
  5: 'full', // FULL
  6: 'full', // NOT_ACCEPTING_PASSENGERS
};

export function crowdingOf(occupancy: number | undefined): CrowdingLevel | undefined {
  return occupancy === undefined ? undefined : CROWDING[occupancy];
}

const tripKey = (tripId: string, startDate: number): string => `${tripId}\n${startDate}`;

/** Vehicles by trip id + start date; by trip id + '*' when the feed gives no date. */
export function placeVehicles(
  vehicles: VehiclePosition[],
  lookup: StaticLookup,
): Map<string, VehicleOnTrip> {
  const placed = new Map<string, VehicleOnTrip>();
  for (const vehicle of vehicles) {
    const tripId = vehicle.trip?.tripId;
    if (!tripId) continue;
    const trip = lookup.trip(tripId);
    if (!trip) continue;
    const stopIndex = trip.stops.findIndex((s) =>
      vehicle.currentStopSequence !== undefined
        ? s.sequence === vehicle.currentStopSequence
        : s.stopId === vehicle.stopId,
    );
    if (stopIndex < 0) continue;
    const onTrip: VehicleOnTrip = { stopIndex, status: vehicle.status };
    const crowding = crowdingOf(vehicle.occupancy);
    if (crowding) onTrip.crowding = crowding;
    const date = vehicle.trip?.startDate;
    placed.set(date === undefined ? `${tripId}\n*` : tripKey(tripId, date), onTrip);
  }
  return placed;
}

export function vehicleFor(
  vehicles: Map<string, VehicleOnTrip>,
  tripId: string,
  startDate: number,
): VehicleOnTrip | undefined {
  return vehicles.get(tripKey(tripId, startDate)) ?? vehicles.get(`${tripId}\n*`);
}
