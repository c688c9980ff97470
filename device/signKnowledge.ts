/**
 * What the sign knows about its stop. Memory is the truth the render loop reads;
 * the SQLite cache is written through so it survives a reboot without network.
 * A write that fails (a full disk, a worn card) is logged and the sign carries
 * on with what it received: passengers must not lose an emergency notice
 * because the cache could not store it.
 */
import type { Logger } from 'pino';
import type {
  AgencyAlert,
  AnnouncementData,
  ArrivalsData,
  DeviceConfigData,
  ScheduleData,
  ScheduledDeparture,
  ManagerHeartbeatData,
  StopAlertsData,
} from '../shared';
import type { AnnouncementSource, SignCache } from './cache/signCache';
import { implausibleTime, MAX_CLOCK_SKEW_SECONDS } from './link/plausibleTimes';

export class SignKnowledge {
  config: DeviceConfigData | null = null;
  arrivals: ArrivalsData | null = null;
  /** The manager's latest heartbeat; memory only, it is worth nothing after a reboot. */
  heartbeat: ManagerHeartbeatData | null = null;
  /** The agency's alerts for this stop; memory only, the broker keeps them retained. */
  private alerts: StopAlertsData | null = null;
  /** Stop the current schedule belongs to; a schedule for another stop is never shown. */
  scheduleStopId: string | null = null;
  /** Epoch seconds the cached timetable reaches to. */
  private scheduleValidUntil = 0;
  /** A schedule the cache could not store, served from memory until one is stored. */
  private unsavedSchedule: ScheduleData | null = null;
  /** One announcement per source topic, in the order received. */
  private readonly announcements = new Map<AnnouncementSource, AnnouncementData>();
  private readonly persistFailures = new Map<string, string>();

  constructor(
    private readonly cache: SignCache,
    private readonly logger: Logger,
  ) {}

  /** Reads back what an earlier run stored; the cache must be open. */
  load(now: number): void {
    this.config = this.cache.config();
    const arrivals = this.cache.lastArrivals();
    // Stored before times were checked, or before the clock was set back: dropped, not obeyed.
    const poisoned =
      arrivals !== null &&
      implausibleTime('stopArrivals', arrivals, 0, { now, skewSeconds: MAX_CLOCK_SKEW_SECONDS }) !==
        undefined;
    if (poisoned)
      this.logger.warn(
        { generatedAt: arrivals.generatedAt },
        'cached arrivals dated in the future dropped',
      );
    this.arrivals = poisoned ? null : arrivals;
    const info = this.cache.scheduleInfo();
    this.scheduleStopId = info?.stopId ?? null;
    this.scheduleValidUntil = info?.validUntil ?? 0;
    this.announcements.clear();
    for (const { source, announcement } of this.cache.storedAnnouncements(now)) {
      this.announcements.set(source, announcement);
    }
  }

  /** Returns true when the sign now serves a different stop. */
  applyConfig(config: DeviceConfigData): boolean {
    const previous = this.config;
    this.config = config;
    this.persist('config', () => this.cache.saveConfig(config));
    if (previous?.stopId === config.stopId) return false;
    this.logger.info(
      { from: previous?.stopId ?? null, to: config.stopId },
      'sign assigned to stop',
    );
    // The old stop's announcements came from topics the sign no longer follows.
    if (previous) this.clearAnnouncements(`stop:${previous.stopId}`);
    return true;
  }

  applyArrivals(arrivals: ArrivalsData): void {
    if (!this.servesStop(arrivals.stopId)) return;
    const current = this.arrivals;
    // A redelivered older message must not replace newer predictions.
    if (current?.stopId === arrivals.stopId && arrivals.generatedAt < current.generatedAt) return;
    this.arrivals = arrivals;
    this.persist('arrivals', () => this.cache.saveArrivals(arrivals));
  }

  applyHeartbeat(heartbeat: ManagerHeartbeatData): void {
    if (this.heartbeat && heartbeat.checkedAt < this.heartbeat.checkedAt) return;
    this.heartbeat = heartbeat;
  }

  applyAlerts(alerts: StopAlertsData): void {
    if (!this.servesStop(alerts.stopId)) return;
    this.alerts = alerts;
  }

  /** Alerts for the stop the sign serves now. */
  agencyAlerts(): AgencyAlert[] {
    if (!this.alerts || this.alerts.stopId !== this.config?.stopId) return [];
    return this.alerts.alerts;
  }

  /** Whether the cache holds a timetable for the stop the sign serves that still reaches past now. */
  scheduleKnown(now: number): boolean {
    return (
      this.config !== null &&
      this.scheduleStopId === this.config.stopId &&
      this.scheduleValidUntil > now
    );
  }

  applySchedule(schedule: ScheduleData): void {
    if (!this.servesStop(schedule.stopId)) return;
    this.scheduleStopId = schedule.stopId;
    this.scheduleValidUntil = schedule.validUntil;
    const saved = this.persist('schedule', () => this.cache.replaceSchedule(schedule));
    this.unsavedSchedule = saved ? null : schedule;
    this.logger.info(
      { stopId: schedule.stopId, departures: schedule.departures.length, saved },
      'schedule received',
    );
  }

  applyAnnouncement(announcement: AnnouncementData, source: AnnouncementSource): void {
    // Re-inserted so the map's order stays the order received.
    this.announcements.delete(source);
    this.announcements.set(source, announcement);
    this.persist('announcement', () => this.cache.setAnnouncement(source, announcement));
  }

  clearAnnouncements(source: AnnouncementSource): void {
    this.announcements.delete(source);
    this.persist('announcement', () => this.cache.removeAnnouncementsFrom(source));
  }

  /** Not expired at now, newest first; start times are judged by the board. */
  activeAnnouncements(now: number): AnnouncementData[] {
    return [...this.announcements.values()].filter((a) => a.expiresAt > now).reverse();
  }

  purgeExpired(now: number): void {
    for (const [source, announcement] of this.announcements) {
      if (announcement.expiresAt <= now) this.announcements.delete(source);
    }
    this.persist('announcement', () => this.cache.purgeExpiredAnnouncements(now));
  }

  /** Departures at or after now from the schedule of the stop the sign serves. */
  upcomingDepartures(now: number, limit: number): ScheduledDeparture[] {
    if (this.config === null || this.scheduleStopId !== this.config.stopId) return [];
    if (!this.unsavedSchedule) return this.cache.upcomingDepartures(now, limit);
    return this.unsavedSchedule.departures
      .filter((d) => d.time >= now)
      .sort((a, b) => a.time - b.time)
      .slice(0, limit);
  }

  /** Runs one cache write; logs the first failure of a kind and its recovery. */
  private persist(what: string, write: () => unknown): boolean {
    try {
      write();
    } catch (err) {
      const message = (err as Error).message;
      if (this.persistFailures.get(what) !== message) {
        this.logger.error(
          { err: message, what },
          'could not store in the sign cache; showing it from memory',
        );
      }
      this.persistFailures.set(what, message);
      return false;
    }
    if (this.persistFailures.delete(what)) this.logger.info({ what }, 'sign cache writable again');
    return true;
  }

  private servesStop(stopId: string): boolean {
    return this.config === null || this.config.stopId === stopId;
  }
}
