/**
 * GTFS time and date fields. Times are "H:MM:SS" since the start of the service
 * day and may pass 24:00:00 for trips that run after midnight; real feeds pad the
 * hour with a space or not at all, so only the digits matter.
 */

const TIME = /^(\d{1,2}):([0-5]\d):([0-5]\d)$/;
const DATE = /^(\d{4})(\d{2})(\d{2})$/;

/** Seconds since service-day start, or undefined when the text is not a GTFS time. */
export function parseGtfsTime(text: string): number | undefined {
  const match = TIME.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3]);
}

/** A YYYYMMDD date as the integer 20250825, or undefined when it is not a real date. */
export function parseGtfsDate(text: string): number | undefined {
  const match = DATE.exec(text.trim());
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day) return undefined;
  return year * 10000 + month * 100 + day;
}

/** A non-negative integer field, or undefined. */
export function parseNonNegativeInt(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}
