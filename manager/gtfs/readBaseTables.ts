/** agency.txt, stops.txt and routes.txt into their parsed form. */
import type { FeedTables } from './csvTables';
import { GtfsImportError } from './errors';
import type { ImportWarnings } from './importWarnings';
import type { ParsedAgency, ParsedRoute, ParsedStop } from './parsedFeed';
import { isValidZone } from './serviceDate';
import { signText } from './signText';
import type { ChineseLookup } from './translations';

export async function readAgencies(
  tables: FeedTables,
  warnings: ImportWarnings,
): Promise<{ agencies: ParsedAgency[]; timezone: string }> {
  const agencies: ParsedAgency[] = [];
  await tables.read(
    'agency.txt',
    { required: ['agency_name', 'agency_timezone'], optional: ['agency_id'] },
    (row) => {
      agencies.push({
        agencyId: row.get('agency_id'),
        name: row.get('agency_name'),
        timezone: row.get('agency_timezone'),
      });
    },
  );
  const first = agencies[0];
  if (!first) throw new GtfsImportError('agency.txt has no agency');
  if (!isValidZone(first.timezone)) {
    throw new GtfsImportError(`agency.txt: agency_timezone '${first.timezone}' is not a time zone`);
  }
  for (const other of agencies.slice(1)) {
    // GTFS requires one zone per feed; times are read in the first agency's.
    if (other.timezone !== first.timezone) {
      warnings.add(
        `agency.txt: agency ${other.agencyId} zone ${other.timezone} differs from ${first.timezone}; using ${first.timezone}`,
      );
    }
  }
  return { agencies, timezone: first.timezone };
}

export async function readStops(
  tables: FeedTables,
  zh: ChineseLookup,
  warnings: ImportWarnings,
): Promise<{ stops: ParsedStop[]; indexById: Map<string, number> }> {
  const stops: ParsedStop[] = [];
  const indexById = new Map<string, number>();
  await tables.read(
    'stops.txt',
    { required: ['stop_id'], optional: ['stop_name', 'parent_station', 'stop_timezone'] },
    (row) => {
      const stopId = row.get('stop_id');
      if (stopId === '') return warnings.add(`stops.txt line ${row.line}: empty stop_id`);
      if (indexById.has(stopId)) {
        return warnings.add(`stops.txt line ${row.line}: duplicate stop_id '${stopId}'`);
      }
      let timezone = row.get('stop_timezone');
      if (timezone !== '' && !isValidZone(timezone)) {
        warnings.add(`stops.txt line ${row.line}: stop_timezone '${timezone}' ignored`);
        timezone = '';
      }
      const en = signText(row.get('stop_name'), `stops.txt line ${row.line}`, warnings);
      const chinese = zh.find('stops.stop_name', stopId, en);
      indexById.set(stopId, stops.length);
      stops.push({
        stopId,
        name: chinese === undefined ? { en } : { en, zh: chinese },
        parentId: row.get('parent_station'),
        timezone,
      });
    },
  );
  // A platform without its own zone takes its station's.
  for (const stop of stops) {
    if (stop.timezone !== '' || stop.parentId === '') continue;
    const parent = stops[indexById.get(stop.parentId) ?? -1];
    if (parent) stop.timezone = parent.timezone;
  }
  return { stops, indexById };
}

export async function readRoutes(
  tables: FeedTables,
  zh: ChineseLookup,
  warnings: ImportWarnings,
): Promise<{ routes: ParsedRoute[]; indexById: Map<string, number> }> {
  const routes: ParsedRoute[] = [];
  const indexById = new Map<string, number>();
  await tables.read(
    'routes.txt',
    {
      required: ['route_id'],
      optional: ['agency_id', 'route_short_name', 'route_long_name', 'route_type'],
    },
    (row) => {
      const routeId = row.get('route_id');
      if (routeId === '') return warnings.add(`routes.txt line ${row.line}: empty route_id`);
      if (indexById.has(routeId)) {
        return warnings.add(`routes.txt line ${row.line}: duplicate route_id '${routeId}'`);
      }
      const where = `routes.txt line ${row.line}`;
      const en = signText(row.get('route_long_name'), where, warnings);
      const chinese = zh.find('routes.route_long_name', routeId, en);
      // Extended types (700 bus, 1501 taxi …) are kept as given; only a non-number is dropped.
      const type = row.get('route_type');
      const routeType = /^\d{1,5}$/.test(type) ? Number(type) : null;
      indexById.set(routeId, routes.length);
      routes.push({
        routeId,
        agencyId: row.get('agency_id'),
        shortName: signText(row.get('route_short_name'), where, warnings),
        longName: chinese === undefined ? { en } : { en, zh: chinese },
        routeType,
      });
    },
  );
  return { routes, indexById };
}
