/**
 * stop_times.txt, the bulk of every feed (millions of rows in a large city),
 * streamed into the database one trip at a time, so memory stays flat however
 * large the feed. Stops without times (allowed between timepoints) get times
 * interpolated by position between the timed stops around them. Feeds almost
 * always list each trip's rows together; one that does not is read a second
 * time through an on-disk staging table ordered by trip.
 */
import type { CsvRow, FeedTables } from './csvTables';
import { GtfsImportError } from './errors';
import type { ImportWarnings } from './importWarnings';
import { parseGtfsTime, parseNonNegativeInt } from './parseTime';
import { signText } from './signText';
import type { ChineseLookup } from './translations';

const NO_TIME = -1;

/** One row as read, before ordering and interpolation. */
export interface RawStopTime {
  trip: number;
  stop: number;
  sequence: number;
  arrival: number;
  departure: number;
  noPickup: boolean;
  line: number;
  headsign: string;
}

/** One row as stored; indexes are array positions (key - 1). */
export interface StopTimeRow {
  trip: number;
  stop: number;
  sequence: number;
  arrival: number;
  departure: number;
  boardable: 0 | 1;
  headsign: string | null;
  headsignZh: string | null;
}

/** Where rows go: the database, in the importer's transaction. */
export interface StopTimesSink {
  write(row: StopTimeRow): void;
  /** Forgets every row written so far (the feed is read again, ordered). */
  discardWritten(): void;
  /** Holds raw rows on disk and gives them back ordered by trip, then sequence, then file order. */
  stage(row: RawStopTime): void;
  staged(): Iterable<RawStopTime>;
}

export interface StopTimesResult {
  rows: number;
  /** Stop index of each trip's last stop, -1 for trips without stop times. */
  lastStopOfTrip: Int32Array;
  firstDepartureOfTrip: Int32Array;
  lastDepartureOfTrip: Int32Array;
  maxDeparture: number;
}

export interface StopTimesContext {
  tripIndexById: Map<string, number>;
  stopIndexById: Map<string, number>;
  tripIds: readonly string[];
  zh: ChineseLookup;
  warnings: ImportWarnings;
  sink: StopTimesSink;
}

const SPEC = {
  required: ['trip_id', 'stop_id', 'stop_sequence', 'departure_time'],
  optional: ['arrival_time', 'pickup_type', 'stop_headsign'],
} as const;

class TripsNotContiguous extends Error {}

export async function readStopTimes(
  tables: FeedTables,
  context: StopTimesContext,
): Promise<StopTimesResult> {
  const { warnings, sink } = context;
  const mark = warnings.mark();
  let grouper = new TripGrouper(context);
  try {
    await tables.read('stop_times.txt', SPEC, (row) => {
      const raw = parseRow(row, context);
      if (raw) grouper.add(raw);
    });
    grouper.finish();
  } catch (error) {
    if (!(error instanceof TripsNotContiguous)) throw error;
    sink.discardWritten();
    warnings.rewind(mark);
    await tables.read('stop_times.txt', SPEC, (row) => {
      const raw = parseRow(row, context);
      if (raw) sink.stage(raw);
    });
    grouper = new TripGrouper(context);
    for (const raw of sink.staged()) grouper.add(raw);
    grouper.finish();
  }
  const result = grouper.result();
  if (result.rows === 0) throw new GtfsImportError('stop_times.txt has no usable rows');
  return result;
}

function parseRow(
  row: CsvRow<(typeof SPEC.required)[number] | (typeof SPEC.optional)[number]>,
  { tripIndexById, stopIndexById, warnings }: StopTimesContext,
): RawStopTime | undefined {
  const where = `stop_times.txt line ${row.line}`;
  const trip = tripIndexById.get(row.get('trip_id'));
  if (trip === undefined) {
    warnings.add(`${where}: unknown trip_id '${row.get('trip_id')}'`);
    return undefined;
  }
  const stop = stopIndexById.get(row.get('stop_id'));
  if (stop === undefined) {
    warnings.add(`${where}: unknown stop_id '${row.get('stop_id')}'`);
    return undefined;
  }
  const sequence = parseNonNegativeInt(row.get('stop_sequence'));
  if (sequence === undefined) {
    warnings.add(`${where}: stop_sequence '${row.get('stop_sequence')}'`);
    return undefined;
  }
  const arrivalText = row.get('arrival_time');
  const departureText = row.get('departure_time');
  const arrival = arrivalText === '' ? NO_TIME : parseGtfsTime(arrivalText);
  if (arrival === undefined) {
    warnings.add(`${where}: arrival_time '${arrivalText}'`);
    return undefined;
  }
  const departure = departureText === '' ? NO_TIME : parseGtfsTime(departureText);
  if (departure === undefined) {
    warnings.add(`${where}: departure_time '${departureText}'`);
    return undefined;
  }
  return {
    trip,
    stop,
    sequence,
    // Either time stands in for the other when only one is given.
    arrival: arrival === NO_TIME ? departure : arrival,
    departure: departure === NO_TIME ? arrival : departure,
    noPickup: row.get('pickup_type') === '1',
    line: row.line,
    headsign: signText(row.get('stop_headsign'), where, warnings),
  };
}

/** Collects one trip's rows, then orders, fills and writes them when the next trip starts. */
class TripGrouper {
  private readonly done: Uint8Array;
  private readonly lastStopOfTrip: Int32Array;
  private readonly firstDepartureOfTrip: Int32Array;
  private readonly lastDepartureOfTrip: Int32Array;
  private group: RawStopTime[] = [];
  private rows = 0;
  private maxDeparture = 0;

  constructor(private readonly context: StopTimesContext) {
    const trips = context.tripIds.length;
    this.done = new Uint8Array(trips);
    this.lastStopOfTrip = new Int32Array(trips).fill(-1);
    this.firstDepartureOfTrip = new Int32Array(trips);
    this.lastDepartureOfTrip = new Int32Array(trips);
  }

  add(raw: RawStopTime): void {
    const current = this.group[0];
    if (current !== undefined && current.trip !== raw.trip) this.flush();
    if (this.group.length === 0 && this.done[raw.trip] === 1) throw new TripsNotContiguous();
    this.group.push(raw);
  }

  finish(): void {
    this.flush();
  }

  result(): StopTimesResult {
    return {
      rows: this.rows,
      lastStopOfTrip: this.lastStopOfTrip,
      firstDepartureOfTrip: this.firstDepartureOfTrip,
      lastDepartureOfTrip: this.lastDepartureOfTrip,
      maxDeparture: this.maxDeparture,
    };
  }

  private flush(): void {
    const first = this.group[0];
    if (first === undefined) return;
    const trip = first.trip;
    this.done[trip] = 1;
    // Stable: of two rows with one stop_sequence the first in the file is kept.
    const ordered = this.group.sort((a, b) => a.sequence - b.sequence);
    this.group = [];
    const unique: RawStopTime[] = [];
    for (const raw of ordered) {
      const previous = unique[unique.length - 1];
      if (previous !== undefined && previous.sequence === raw.sequence) {
        this.context.warnings.add(
          `stop_times.txt line ${raw.line}: duplicate stop_sequence ${raw.sequence}`,
        );
        continue;
      }
      unique.push(raw);
    }
    const rows = fillMissingTimes(unique, this.context.warnings);
    const { sink, zh, tripIds } = this.context;
    rows.forEach((raw, k) => {
      let headsignZh: string | null = null;
      if (raw.headsign !== '') {
        const key = `${tripIds[trip] ?? ''}/${raw.sequence}`;
        headsignZh = zh.find('stop_times.stop_headsign', key, raw.headsign) ?? null;
      }
      sink.write({
        trip,
        stop: raw.stop,
        sequence: raw.sequence,
        arrival: raw.arrival,
        departure: raw.departure,
        // Nobody boards at the end of the line: a bus terminating here is no departure.
        boardable: k === rows.length - 1 || raw.noPickup ? 0 : 1,
        headsign: raw.headsign === '' ? null : raw.headsign,
        headsignZh,
      });
      this.maxDeparture = Math.max(this.maxDeparture, raw.departure);
    });
    this.rows += rows.length;
    const head = rows[0];
    const tail = rows[rows.length - 1];
    if (head !== undefined && tail !== undefined) {
      this.lastStopOfTrip[trip] = tail.stop;
      this.firstDepartureOfTrip[trip] = head.departure;
      this.lastDepartureOfTrip[trip] = tail.departure;
    }
  }
}

/**
 * The trip's rows with every time known: untimed stops between two timed ones
 * are spaced evenly; untimed stops before the first or after the last timed one
 * cannot be placed and are dropped.
 */
function fillMissingTimes(group: RawStopTime[], warnings: ImportWarnings): RawStopTime[] {
  if (group.every((r) => r.departure !== NO_TIME)) return group;
  const first = group.findIndex((r) => r.departure !== NO_TIME);
  let last = -1;
  group.forEach((r, k) => {
    if (r.departure !== NO_TIME) last = k;
  });
  group.forEach((r, k) => {
    if (first === -1 || k < first || k > last) {
      warnings.add(`stop_times.txt line ${r.line}: no time and no timed stop on both sides`);
    }
  });
  if (first === -1) return [];
  const kept = group.slice(first, last + 1);
  let anchor = 0;
  for (let k = 1; k < kept.length; k++) {
    const r = kept[k];
    if (r === undefined || r.departure === NO_TIME) continue;
    const from = kept[anchor]?.departure ?? 0;
    const to = r.arrival;
    for (let j = anchor + 1; j < k; j++) {
      const t = Math.round(from + ((to - from) * (j - anchor)) / (k - anchor));
      const row = kept[j];
      if (row) {
        row.arrival = t;
        row.departure = t;
      }
    }
    anchor = k;
  }
  return kept;
}
