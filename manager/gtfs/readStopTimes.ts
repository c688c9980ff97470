/**
 * stop_times.txt, the bulk of every feed (300k+ rows), read into flat numeric
 * columns. Stops without times (allowed between timepoints) get times
 * interpolated by position between the timed stops around them.
 */
import type { LocalizedText } from '../../shared';
import { readCsv } from './csvTables';
import { GtfsImportError } from './errors';
import type { ImportWarnings } from './importWarnings';
import type { ParsedStopTimes } from './parsedFeed';
import { parseGtfsTime, parseNonNegativeInt } from './parseTime';
import type { ChineseLookup } from './translations';

const NO_TIME = -1;

export interface StopTimesResult {
  stopTimes: ParsedStopTimes;
  /** Stop index of each trip's last stop, -1 for trips without stop times. */
  lastStopOfTrip: Int32Array;
  firstDepartureOfTrip: Int32Array;
  lastDepartureOfTrip: Int32Array;
  maxDeparture: number;
}

/** Rows as read, before ordering and interpolation. */
interface RawColumns {
  trip: number[];
  stop: number[];
  sequence: number[];
  arrival: number[];
  departure: number[];
  noPickup: boolean[];
  line: number[];
  headsign: Map<number, string>;
}

export function readStopTimes(
  text: string,
  tripIndexById: Map<string, number>,
  stopIndexById: Map<string, number>,
  tripIds: readonly string[],
  zh: ChineseLookup,
  warnings: ImportWarnings,
): StopTimesResult {
  const raw = readRaw(text, tripIndexById, stopIndexById, warnings);
  const result = orderAndFill(raw, tripIds.length, warnings);
  for (const [row, en] of result.headsignText) {
    const tripId = tripIds[result.stopTimes.tripIndex[row] ?? -1] ?? '';
    const chinese = zh.find(
      'stop_times.stop_headsign',
      `${tripId}/${result.stopTimes.sequence[row]}`,
      en,
    );
    const text: LocalizedText = chinese === undefined ? { en } : { en, zh: chinese };
    result.stopTimes.stopHeadsign.set(row, text);
  }
  if (result.stopTimes.length === 0) {
    throw new GtfsImportError('stop_times.txt has no usable rows');
  }
  return result;
}

function readRaw(
  text: string,
  tripIndexById: Map<string, number>,
  stopIndexById: Map<string, number>,
  warnings: ImportWarnings,
): RawColumns {
  const raw: RawColumns = {
    trip: [],
    stop: [],
    sequence: [],
    arrival: [],
    departure: [],
    noPickup: [],
    line: [],
    headsign: new Map(),
  };
  readCsv(
    'stop_times.txt',
    text,
    {
      required: ['trip_id', 'stop_id', 'stop_sequence', 'departure_time'],
      optional: ['arrival_time', 'pickup_type', 'stop_headsign'],
    },
    (row) => {
      const where = `stop_times.txt line ${row.line}`;
      const trip = tripIndexById.get(row.get('trip_id'));
      if (trip === undefined)
        return warnings.add(`${where}: unknown trip_id '${row.get('trip_id')}'`);
      const stop = stopIndexById.get(row.get('stop_id'));
      if (stop === undefined)
        return warnings.add(`${where}: unknown stop_id '${row.get('stop_id')}'`);
      const sequence = parseNonNegativeInt(row.get('stop_sequence'));
      if (sequence === undefined) {
        return warnings.add(`${where}: stop_sequence '${row.get('stop_sequence')}'`);
      }
      const arrivalText = row.get('arrival_time');
      const departureText = row.get('departure_time');
      const arrival = arrivalText === '' ? NO_TIME : parseGtfsTime(arrivalText);
      if (arrival === undefined) return warnings.add(`${where}: arrival_time '${arrivalText}'`);
      const departure = departureText === '' ? NO_TIME : parseGtfsTime(departureText);
      if (departure === undefined) {
        return warnings.add(`${where}: departure_time '${departureText}'`);
      }
      const at = raw.trip.length;
      raw.trip.push(trip);
      raw.stop.push(stop);
      raw.sequence.push(sequence);
      // Either time stands in for the other when only one is given.
      raw.arrival.push(arrival === NO_TIME ? departure : arrival);
      raw.departure.push(departure === NO_TIME ? arrival : departure);
      raw.noPickup.push(row.get('pickup_type') === '1');
      raw.line.push(row.line);
      const headsign = row.get('stop_headsign');
      if (headsign !== '') raw.headsign.set(at, headsign);
    },
  );
  return raw;
}

function orderAndFill(
  raw: RawColumns,
  tripCount: number,
  warnings: ImportWarnings,
): StopTimesResult & { headsignText: Map<number, string> } {
  const n = raw.trip.length;
  const order = sortedOrder(raw);
  const out: ParsedStopTimes = {
    length: 0,
    tripIndex: new Int32Array(n),
    stopIndex: new Int32Array(n),
    sequence: new Int32Array(n),
    arrival: new Int32Array(n),
    departure: new Int32Array(n),
    boardable: new Uint8Array(n),
    stopHeadsign: new Map(),
  };
  const headsignText = new Map<number, string>();
  const lastStopOfTrip = new Int32Array(tripCount).fill(-1);
  const firstDepartureOfTrip = new Int32Array(tripCount);
  const lastDepartureOfTrip = new Int32Array(tripCount);
  let maxDeparture = 0;
  const group: number[] = [];

  const flush = () => {
    const rows = fillMissingTimes(group, raw, warnings);
    rows.forEach((r, k) => {
      const at = out.length++;
      out.tripIndex[at] = raw.trip[r] ?? 0;
      out.stopIndex[at] = raw.stop[r] ?? 0;
      out.sequence[at] = raw.sequence[r] ?? 0;
      out.arrival[at] = raw.arrival[r] ?? 0;
      out.departure[at] = raw.departure[r] ?? 0;
      // Nobody boards at the end of the line: a bus terminating here is no departure.
      out.boardable[at] = k === rows.length - 1 || raw.noPickup[r] ? 0 : 1;
      maxDeparture = Math.max(maxDeparture, out.departure[at] ?? 0);
      const headsign = raw.headsign.get(r);
      if (headsign !== undefined) headsignText.set(at, headsign);
    });
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (first !== undefined && last !== undefined) {
      const trip = raw.trip[first] ?? 0;
      lastStopOfTrip[trip] = raw.stop[last] ?? -1;
      firstDepartureOfTrip[trip] = raw.departure[first] ?? 0;
      lastDepartureOfTrip[trip] = raw.departure[last] ?? 0;
    }
    group.length = 0;
  };

  for (const r of order) {
    const previous = group[group.length - 1];
    if (previous !== undefined) {
      if (raw.trip[previous] !== raw.trip[r]) flush();
      else if (raw.sequence[previous] === raw.sequence[r]) {
        warnings.add(
          `stop_times.txt line ${raw.line[r]}: duplicate stop_sequence ${raw.sequence[r]}`,
        );
        continue;
      }
    }
    group.push(r);
  }
  flush();
  return {
    stopTimes: out,
    lastStopOfTrip,
    firstDepartureOfTrip,
    lastDepartureOfTrip,
    maxDeparture,
    headsignText,
  };
}

/** Row numbers ordered by trip, then stop_sequence; most feeds are in order already. */
function sortedOrder(raw: RawColumns): Int32Array {
  const n = raw.trip.length;
  const order = new Int32Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (i > 0 && compare(raw, i - 1, i) > 0) sorted = false;
  }
  if (!sorted) order.sort((a, b) => compare(raw, a, b));
  return order;
}

function compare(raw: RawColumns, a: number, b: number): number {
  return (raw.trip[a] ?? 0) - (raw.trip[b] ?? 0) || (raw.sequence[a] ?? 0) - (raw.sequence[b] ?? 0);
}

/**
 * The trip's rows with every time known: untimed stops between two timed ones
 * are spaced evenly; untimed stops before the first or after the last timed one
 * cannot be placed and are dropped.
 */
function fillMissingTimes(group: number[], raw: RawColumns, warnings: ImportWarnings): number[] {
  if (group.every((r) => raw.departure[r] !== NO_TIME)) return group;
  const first = group.findIndex((r) => raw.departure[r] !== NO_TIME);
  let last = -1;
  group.forEach((r, k) => {
    if (raw.departure[r] !== NO_TIME) last = k;
  });
  group.forEach((r, k) => {
    if (first === -1 || k < first || k > last) {
      warnings.add(`stop_times.txt line ${raw.line[r]}: no time and no timed stop on both sides`);
    }
  });
  if (first === -1) return [];
  const kept = group.slice(first, last + 1);
  let anchor = 0;
  for (let k = 1; k < kept.length; k++) {
    const r = kept[k] ?? 0;
    if (raw.departure[r] !== NO_TIME) {
      const from = raw.departure[kept[anchor] ?? 0] ?? 0;
      const to = raw.arrival[r] ?? 0;
      for (let j = anchor + 1; j < k; j++) {
        const t = Math.round(from + ((to - from) * (j - anchor)) / (k - anchor));
        const row = kept[j] ?? 0;
        raw.arrival[row] = t;
        raw.departure[row] = t;
      }
      anchor = k;
    }
  }
  return kept;
}
