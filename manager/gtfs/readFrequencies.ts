/**
 * frequencies.txt: trips that repeat on a headway. Each listed trip is a
 * template whose stop_times give the spacing between stops; departures are
 * generated at query time.
 */
import type { FeedTables } from './csvTables';
import type { ImportWarnings } from './importWarnings';
import type { ParsedFrequency } from './parsedFeed';
import { parseGtfsTime, parseNonNegativeInt } from './parseTime';

export async function readFrequencies(
  tables: FeedTables,
  tripIndexById: Map<string, number>,
  warnings: ImportWarnings,
): Promise<ParsedFrequency[]> {
  if (!tables.has('frequencies.txt')) return [];
  const frequencies: ParsedFrequency[] = [];
  await tables.read(
    'frequencies.txt',
    { required: ['trip_id', 'start_time', 'end_time', 'headway_secs'], optional: [] },
    (row) => {
      const where = `frequencies.txt line ${row.line}`;
      const tripIndex = tripIndexById.get(row.get('trip_id'));
      if (tripIndex === undefined) {
        return warnings.add(`${where}: unknown trip_id '${row.get('trip_id')}'`);
      }
      const startTime = parseGtfsTime(row.get('start_time'));
      const endTime = parseGtfsTime(row.get('end_time'));
      const headway = parseNonNegativeInt(row.get('headway_secs'));
      if (startTime === undefined || endTime === undefined || endTime < startTime) {
        return warnings.add(
          `${where}: start_time/end_time '${row.get('start_time')}'-'${row.get('end_time')}'`,
        );
      }
      if (headway === undefined || headway === 0) {
        return warnings.add(`${where}: headway_secs '${row.get('headway_secs')}'`);
      }
      frequencies.push({ tripIndex, startTime, endTime, headway });
    },
    { allowEmpty: true },
  );
  return frequencies;
}
