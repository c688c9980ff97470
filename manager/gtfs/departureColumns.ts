/**
 * Departures as columns for the trip between threads: a structured clone of
 * 5,000 row objects costs the receiving thread tens of milliseconds to
 * deserialize, while numbers in typed arrays (moved, not copied) and one list
 * of distinct strings cost it about one. Rows are rebuilt on arrival.
 */
import type { ScheduledDeparture } from '../../shared';

export interface DepartureColumns {
  /** Each distinct text once; the index columns point into it. */
  texts: string[];
  tripId: Uint32Array;
  routeId: Uint32Array;
  route: Uint32Array;
  headsignEn: Uint32Array;
  /** Index + 1, or 0 for no Chinese headsign. */
  headsignZh: Uint32Array;
  time: Float64Array;
}

export function toColumns(departures: readonly ScheduledDeparture[]): DepartureColumns {
  const texts: string[] = [];
  const indexOf = new Map<string, number>();
  const text = (value: string): number => {
    let index = indexOf.get(value);
    if (index === undefined) {
      index = texts.push(value) - 1;
      indexOf.set(value, index);
    }
    return index;
  };
  const n = departures.length;
  const columns: DepartureColumns = {
    texts,
    tripId: new Uint32Array(n),
    routeId: new Uint32Array(n),
    route: new Uint32Array(n),
    headsignEn: new Uint32Array(n),
    headsignZh: new Uint32Array(n),
    time: new Float64Array(n),
  };
  departures.forEach((d, i) => {
    columns.tripId[i] = text(d.tripId);
    columns.routeId[i] = text(d.routeId);
    columns.route[i] = text(d.route);
    columns.headsignEn[i] = text(d.headsign.en);
    columns.headsignZh[i] = d.headsign.zh === undefined ? 0 : text(d.headsign.zh) + 1;
    columns.time[i] = d.time;
  });
  return columns;
}

/** The buffers to move rather than copy with postMessage. */
export function columnBuffers(columns: DepartureColumns): ArrayBuffer[] {
  const { tripId, routeId, route, headsignEn, headsignZh, time } = columns;
  return [tripId, routeId, route, headsignEn, headsignZh, time].map((a) => a.buffer as ArrayBuffer);
}

export function fromColumns(columns: DepartureColumns): ScheduledDeparture[] {
  const { texts } = columns;
  const departures: ScheduledDeparture[] = new Array<ScheduledDeparture>(columns.time.length);
  for (let i = 0; i < departures.length; i += 1) {
    const en = texts[columns.headsignEn[i]!]!;
    const zh = columns.headsignZh[i]!;
    departures[i] = {
      tripId: texts[columns.tripId[i]!]!,
      routeId: texts[columns.routeId[i]!]!,
      route: texts[columns.route[i]!]!,
      headsign: zh === 0 ? { en } : { en, zh: texts[zh - 1]! },
      time: columns.time[i]!,
    };
  }
  return departures;
}
