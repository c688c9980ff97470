/**
 * Child process for the power-cut test: replaces the sign cache's schedule over
 * and over, alternating two complete timetables, until it is killed.
 *   tsx tests/helpers/scheduleWriter.ts <sqlite path>
 */
import { SignCache } from '../../device/cache/signCache';
import type { ScheduleData } from '../../shared';

export const DEPARTURES_PER_SCHEDULE = 3000;

export function timetable(label: 'A' | 'B'): ScheduleData {
  const from = 1_795_600_000;
  return {
    stopId: 'CEN',
    stopName: { en: `Central ${label}` },
    timezone: 'Asia/Hong_Kong',
    validFrom: from,
    validUntil: from + 30 * 3600,
    departures: Array.from({ length: DEPARTURES_PER_SCHEDULE }, (_, i) => ({
      tripId: `${label}-${i}`,
      routeId: 'R1',
      route: '1',
      headsign: { en: `Timetable ${label}` },
      time: from + i * 30,
    })),
  };
}

const dbPath = process.argv[2];
if (dbPath && process.argv[1]?.endsWith('scheduleWriter.ts')) {
  const cache = new SignCache({ path: dbPath });
  cache.open();
  const schedules = [timetable('A'), timetable('B')];
  for (let n = 0; ; n++) {
    cache.replaceSchedule(schedules[n % 2] as ScheduleData);
    process.stdout.write(`${n}\n`);
  }
}
