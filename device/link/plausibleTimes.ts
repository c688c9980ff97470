/**
 * Times a sign will believe. A message dated far in the future would win
 * every "is this newer?" comparison for years (arrivals generated in 2100 make
 * every real update look old, even after a reboot, since the cache keeps
 * them), so such messages are refused and counted instead. Pure.
 */
import type { DataOf, TopicKind } from '../../shared';

/** Clock difference tolerated between manager and sign while nothing vouches for the sign's clock. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
/** Once the manager's heartbeat confirmed the clock (within 10 s), this is all that is tolerated. */
export const SYNCED_SKEW_SECONDS = 30;

/** What message times are judged against: epoch seconds, and how far ahead they may be. */
export interface TimeReference {
  now: number;
  skewSeconds: number;
}
/** Announcements may be scheduled ahead, but not by more than this. */
export const MAX_ANNOUNCEMENT_AHEAD_SECONDS = 366 * 86_400;
/** Offline schedules reach a few days ahead at most. */
export const MAX_SCHEDULE_AHEAD_SECONDS = 7 * 86_400;
/**
 * Before this the sign's own clock is not set (no NTP yet after a cold boot):
 * it cannot judge other times and believes them.
 */
export const CLOCK_SET_AFTER = Date.UTC(2024, 0, 1) / 1000;

/** Why the message's times cannot be true at `reference.now`; undefined when they can. */
export function implausibleTime<K extends TopicKind>(
  kind: K,
  data: DataOf<K>,
  sentAtMs: number,
  reference: TimeReference,
): string | undefined {
  const { now, skewSeconds } = reference;
  if (now < CLOCK_SET_AFTER) return undefined;
  const ahead = (t: number) => t - now;
  if (ahead(sentAtMs / 1000) > skewSeconds) {
    return `sent ${Math.round(ahead(sentAtMs / 1000))} s in the future`;
  }
  switch (kind) {
    case 'stopArrivals':
    case 'stopAlerts': {
      const { generatedAt } = data as DataOf<'stopArrivals'>;
      if (ahead(generatedAt) > skewSeconds)
        return `generated ${ahead(generatedAt)} s in the future`;
      return undefined;
    }
    case 'stopSchedule': {
      const { validFrom, validUntil } = data as DataOf<'stopSchedule'>;
      if (ahead(validFrom) > skewSeconds) return `valid from ${ahead(validFrom)} s in the future`;
      if (ahead(validUntil) > MAX_SCHEDULE_AHEAD_SECONDS)
        return `valid until ${ahead(validUntil)} s ahead`;
      return undefined;
    }
    case 'deviceAnnouncement':
    case 'stopAnnouncement':
    case 'cityAnnouncement': {
      const { expiresAt } = data as DataOf<'stopAnnouncement'>;
      if (ahead(expiresAt) > MAX_ANNOUNCEMENT_AHEAD_SECONDS)
        return `expires ${ahead(expiresAt)} s ahead`;
      return undefined;
    }
    case 'managerStatus': {
      const { startedAt } = data as DataOf<'managerStatus'>;
      if (ahead(startedAt) > skewSeconds)
        return `manager started ${ahead(startedAt)} s in the future`;
      return undefined;
    }
    default:
      return undefined;
  }
}
