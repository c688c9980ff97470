/** calendar.txt and calendar_dates.txt: which services run on which dates. */
import type { FeedTables } from './csvTables';
import { GtfsImportError } from './errors';
import type { ImportWarnings } from './importWarnings';
import type { ParsedCalendar, ParsedCalendarDate } from './parsedFeed';
import { parseGtfsDate } from './parseTime';

const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;

export interface ParsedService {
  calendars: ParsedCalendar[];
  calendarDates: ParsedCalendarDate[];
  serviceIds: Set<string>;
  /** First and last dates any service runs, YYYYMMDD ('' when none). */
  serviceStart: string;
  serviceEnd: string;
}

export async function readCalendars(
  tables: FeedTables,
  warnings: ImportWarnings,
): Promise<ParsedService> {
  // Some feeds ship an empty calendar.txt beside a full calendar_dates.txt: empty means absent.
  const calendar = await readCalendar(tables, warnings);
  const dates = await readCalendarDates(tables, warnings);
  if (calendar === undefined && dates === undefined) {
    throw new GtfsImportError('calendar.txt and calendar_dates.txt are both missing from the feed');
  }
  const calendars = calendar ?? [];
  const calendarDates = dates ?? [];
  if (calendars.length === 0 && calendarDates.length === 0) {
    throw new GtfsImportError('calendar.txt and calendar_dates.txt have no usable rows');
  }

  let first = Infinity;
  let last = -Infinity;
  for (const c of calendars) {
    if (c.weekdays === 0) continue; // runs only on dates added in calendar_dates.txt
    first = Math.min(first, c.startDate);
    last = Math.max(last, c.endDate);
  }
  for (const d of calendarDates) {
    if (d.exceptionType !== 1) continue;
    first = Math.min(first, d.date);
    last = Math.max(last, d.date);
  }
  const serviceIds = new Set([...calendars, ...calendarDates].map((s) => s.serviceId));
  return {
    calendars,
    calendarDates,
    serviceIds,
    serviceStart: Number.isFinite(first) ? String(first) : '',
    serviceEnd: Number.isFinite(last) ? String(last) : '',
  };
}

async function readCalendar(
  tables: FeedTables,
  warnings: ImportWarnings,
): Promise<ParsedCalendar[] | undefined> {
  if (!tables.has('calendar.txt')) return undefined;
  const calendars: ParsedCalendar[] = [];
  const seen = new Set<string>();
  const present = await tables.read(
    'calendar.txt',
    { required: ['service_id', ...WEEKDAYS, 'start_date', 'end_date'], optional: [] },
    (row) => {
      const serviceId = row.get('service_id');
      const where = `calendar.txt line ${row.line}`;
      if (serviceId === '') return warnings.add(`${where}: empty service_id`);
      if (seen.has(serviceId)) return warnings.add(`${where}: duplicate service_id '${serviceId}'`);
      const startDate = parseGtfsDate(row.get('start_date'));
      const endDate = parseGtfsDate(row.get('end_date'));
      if (startDate === undefined) {
        return warnings.add(`${where}: start_date '${row.get('start_date')}'`);
      }
      if (endDate === undefined) return warnings.add(`${where}: end_date '${row.get('end_date')}'`);
      let weekdays = 0;
      for (const [bit, day] of WEEKDAYS.entries()) {
        const flag = row.get(day);
        if (flag !== '0' && flag !== '1') return warnings.add(`${where}: ${day} '${flag}'`);
        if (flag === '1') weekdays |= 1 << bit;
      }
      seen.add(serviceId);
      calendars.push({ serviceId, weekdays, startDate, endDate });
    },
    { allowEmpty: true },
  );
  return present ? calendars : undefined;
}

async function readCalendarDates(
  tables: FeedTables,
  warnings: ImportWarnings,
): Promise<ParsedCalendarDate[] | undefined> {
  if (!tables.has('calendar_dates.txt')) return undefined;
  const dates: ParsedCalendarDate[] = [];
  const seen = new Set<string>();
  const present = await tables.read(
    'calendar_dates.txt',
    { required: ['service_id', 'date', 'exception_type'], optional: [] },
    (row) => {
      const serviceId = row.get('service_id');
      const where = `calendar_dates.txt line ${row.line}`;
      if (serviceId === '') return warnings.add(`${where}: empty service_id`);
      const date = parseGtfsDate(row.get('date'));
      if (date === undefined) return warnings.add(`${where}: date '${row.get('date')}'`);
      const type = row.get('exception_type');
      if (type !== '1' && type !== '2') return warnings.add(`${where}: exception_type '${type}'`);
      const id = `${serviceId}\u0000${date}`;
      if (seen.has(id)) return warnings.add(`${where}: duplicate date for service '${serviceId}'`);
      seen.add(id);
      dates.push({ serviceId, date, exceptionType: type === '1' ? 1 : 2 });
    },
    { allowEmpty: true },
  );
  return present ? dates : undefined;
}
