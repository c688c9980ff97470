/**
 * Checks on a static feed that protect what passengers see: a new feed must
 * not silently take away the stops signs stand at, and the timetable the
 * predictions stand on must cover today and the coming week. Pure functions.
 */
import { GtfsImportError } from './errors';
import { addDays, localDate } from './serviceDate';

export interface SignAtStop {
  deviceId: string;
  stopId: string;
}

/** Signs whose stop the new feed no longer has. */
export function signsLosingTheirStop(
  newStopIds: Iterable<string>,
  signs: readonly SignAtStop[],
): SignAtStop[] {
  const kept = new Set(newStopIds);
  return signs.filter((sign) => !kept.has(sign.stopId));
}

export class StopsDroppedError extends GtfsImportError {
  override name = 'StopsDroppedError';
  constructor(readonly signs: SignAtStop[]) {
    const listed = signs
      .slice(0, 20)
      .map((s) => `${s.deviceId} at ${s.stopId}`)
      .join(', ');
    const more = signs.length > 20 ? ` and ${signs.length - 20} more` : '';
    super(
      `the new feed drops stops that registered signs use (${listed}${more}); ` +
        'move those signs or upload again with force=true',
    );
  }
}

/** Throws StopsDroppedError unless forced; the import then stops before anything is written. */
export function refuseDroppedStops(
  newStopIds: Iterable<string>,
  signs: readonly SignAtStop[],
  force: boolean,
): void {
  if (force) return;
  const losing = signsLosingTheirStop(newStopIds, signs);
  if (losing.length > 0) throw new StopsDroppedError(losing);
}

export interface CoverageInputs {
  /** YYYYMMDD strings, as in the import summary. */
  serviceStart: string;
  serviceEnd: string;
  timezone: string;
  /** Epoch seconds. */
  now: number;
  /** Share of realtime trips matched to the timetable; null when no realtime feed. */
  tripMatchRate: number | null;
}

export const ENDS_SOON_DAYS = 7;
export const MIN_TRIP_MATCH_RATE = 0.9;

/** What an operator should hear about before passengers notice. */
export function coverageWarnings(inputs: CoverageInputs): string[] {
  const warnings: string[] = [];
  const today = localDate(inputs.now, inputs.timezone);
  const start = Number(inputs.serviceStart);
  const end = Number(inputs.serviceEnd);
  if (start > today || end < today) {
    warnings.push(
      `the timetable does not cover today (${today}): it runs ${inputs.serviceStart}-${inputs.serviceEnd}`,
    );
  } else if (end < addDays(today, ENDS_SOON_DAYS)) {
    warnings.push(`the timetable ends on ${inputs.serviceEnd}, within ${ENDS_SOON_DAYS} days`);
  }
  if (inputs.tripMatchRate !== null && inputs.tripMatchRate < MIN_TRIP_MATCH_RATE) {
    warnings.push(
      `only ${Math.round(inputs.tripMatchRate * 100)}% of realtime trips match the timetable ` +
        `(under ${MIN_TRIP_MATCH_RATE * 100}%): is the static feed the one the realtime feed is made for?`,
    );
  }
  return warnings;
}
