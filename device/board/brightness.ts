/**
 * Day/night brightness from the sign's configuration. Pure: the caller
 * supplies the time, so tests need no clock and the cron job stays trivial.
 */
import type { DeviceConfigData } from '../../shared';

type BrightnessSettings = DeviceConfigData['brightness'];

const minutesOf = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Minutes since local midnight in timeZone; an unknown zone counts as UTC rather than failing. */
export function localMinutes(nowMs: number, timeZone: string): number {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'UTC',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }
  const parts = format.formatToParts(new Date(nowMs));
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/** Night runs from nightStart up to nightEnd and may wrap past midnight; equal times mean no night. */
export function isNight(nowMs: number, settings: BrightnessSettings, timeZone: string): boolean {
  const local = localMinutes(nowMs, timeZone);
  const start = minutesOf(settings.nightStart);
  const end = minutesOf(settings.nightEnd);
  if (start === end) return false;
  return start < end ? local >= start && local < end : local >= start || local < end;
}

/**
 * Day or night level. A light sensor, when the sign has one (daylight not null),
 * decides; the schedule decides otherwise. Either way the level is one of the
 * two configured limits.
 */
export function brightnessAt(
  nowMs: number,
  settings: BrightnessSettings,
  timeZone: string,
  daylight: boolean | null = null,
): number {
  const night = daylight === null ? isNight(nowMs, settings, timeZone) : !daylight;
  return night ? settings.night : settings.day;
}
