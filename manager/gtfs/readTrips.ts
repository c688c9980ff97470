/** trips.txt; headsigns are settled once stop_times.txt says where each trip ends. */
import type { LocalizedText } from '../../shared';
import type { FeedTables } from './csvTables';
import type { ImportWarnings } from './importWarnings';
import type { ParsedRoute, ParsedStop, ParsedTrip } from './parsedFeed';
import { signText } from './signText';
import type { ChineseLookup } from './translations';

export interface RawTrip {
  tripId: string;
  routeIndex: number;
  serviceId: string;
  headsign: LocalizedText | undefined;
}

export async function readTrips(
  tables: FeedTables,
  routeIndexById: Map<string, number>,
  serviceIds: Set<string>,
  zh: ChineseLookup,
  warnings: ImportWarnings,
): Promise<{ trips: RawTrip[]; indexById: Map<string, number> }> {
  const trips: RawTrip[] = [];
  const indexById = new Map<string, number>();
  await tables.read(
    'trips.txt',
    { required: ['route_id', 'service_id', 'trip_id'], optional: ['trip_headsign'] },
    (row) => {
      const tripId = row.get('trip_id');
      const where = `trips.txt line ${row.line}`;
      if (tripId === '') return warnings.add(`${where}: empty trip_id`);
      if (indexById.has(tripId)) return warnings.add(`${where}: duplicate trip_id '${tripId}'`);
      const routeIndex = routeIndexById.get(row.get('route_id'));
      if (routeIndex === undefined) {
        return warnings.add(`${where}: unknown route_id '${row.get('route_id')}'`);
      }
      const serviceId = row.get('service_id');
      // Kept: such a trip never runs, but dropping it would hide the feed's mistake from counts.
      if (!serviceIds.has(serviceId)) {
        warnings.add(`${where}: service_id '${serviceId}' is in neither calendar file`);
      }
      const en = signText(row.get('trip_headsign'), where, warnings);
      const chinese = zh.find('trips.trip_headsign', tripId, en);
      indexById.set(tripId, trips.length);
      trips.push({
        tripId,
        routeIndex,
        serviceId,
        headsign: en === '' ? undefined : chinese === undefined ? { en } : { en, zh: chinese },
      });
    },
  );
  return { trips, indexById };
}

/** trip_headsign, else the route's long name, else the name of the trip's last stop. */
export function settleHeadsigns(
  raw: RawTrip[],
  routes: ParsedRoute[],
  stops: ParsedStop[],
  ends: { lastStopOfTrip: Int32Array; firstDepartureOfTrip: Int32Array },
): ParsedTrip[] {
  return raw.map((trip, index) => {
    const route = routes[trip.routeIndex];
    const lastStop = stops[ends.lastStopOfTrip[index] ?? -1];
    const headsign = trip.headsign ??
      (route && route.longName.en !== '' ? route.longName : undefined) ??
      lastStop?.name ?? { en: route?.shortName ?? '' };
    return {
      tripId: trip.tripId,
      routeIndex: trip.routeIndex,
      serviceId: trip.serviceId,
      headsign,
      firstDeparture: ends.firstDepartureOfTrip[index] ?? 0,
    };
  });
}
