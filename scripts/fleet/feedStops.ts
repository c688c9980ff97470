/**
 * The stops of a real GTFS feed, for giving each simulated sign a stop a real
 * sign could be at: only stops and platforms (location_type 0 or empty), in
 * the feed's order.
 */
import fs from 'node:fs';
import { parse } from 'csv-parse/sync';
import { strFromU8, unzipSync } from 'fflate';

/** stops.txt of the zip (the shallowest, for feeds zipped with their folder), or undefined. */
function stopsText(zipPath: string): string | undefined {
  const found = unzipSync(fs.readFileSync(zipPath), {
    filter: (file) => /(^|\/)stops\.txt$/i.test(file.name) && !file.name.startsWith('__MACOSX/'),
  });
  const shallowest = Object.keys(found).sort(
    (a, b) => a.split('/').length - b.split('/').length,
  )[0];
  return shallowest === undefined ? undefined : strFromU8(found[shallowest] as Uint8Array);
}

export function boardingStops(zipPath: string): string[] {
  const text = stopsText(zipPath);
  if (text === undefined) throw new Error(`${zipPath} has no stops.txt`);
  const rows = parse<Record<string, string | undefined>>(text, {
    columns: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
  });
  const stops: string[] = [];
  for (const row of rows) {
    const id = row.stop_id?.trim();
    const type = row.location_type?.trim() ?? '';
    if (id && (type === '' || type === '0')) stops.push(id);
  }
  if (stops.length === 0) throw new Error(`${zipPath} has no boarding stops`);
  return stops;
}

export interface SimulatedIdentity {
  deviceId: string;
  stopId: string;
}

/** Sign i gets `sim-<i>` and the feed's stops in turn, so N up to the stop count covers N stops. */
export function fleetIdentities(
  count: number,
  stops: readonly string[],
  prefix = 'sim',
): SimulatedIdentity[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: `${prefix}-${String(i).padStart(5, '0')}`,
    stopId: stops[i % stops.length] as string,
  }));
}
