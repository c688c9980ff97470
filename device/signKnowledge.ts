/**
 * What the sign knows about its stop, kept in memory for the render loop and
 * written through to the SQLite cache so it survives a reboot without network.
 */
import type { Logger } from 'pino';
import type { AnnouncementData, ArrivalsData, DeviceConfigData, ScheduleData } from '../shared';
import type { AnnouncementSource, SignCache } from './cache/signCache';

export class SignKnowledge {
  config: DeviceConfigData | null = null;
  arrivals: ArrivalsData | null = null;
  /** Stop the cached schedule belongs to; a schedule for another stop is never shown. */
  scheduleStopId: string | null = null;

  constructor(
    private readonly cache: SignCache,
    private readonly logger: Logger,
  ) {}

  /** Reads back what an earlier run stored; the cache must be open. */
  load(): void {
    this.config = this.cache.config();
    this.arrivals = this.cache.lastArrivals();
    this.scheduleStopId = this.cache.scheduleInfo()?.stopId ?? null;
  }

  /** Returns true when the sign now serves a different stop. */
  applyConfig(config: DeviceConfigData): boolean {
    const previous = this.config;
    this.cache.saveConfig(config);
    this.config = config;
    if (previous?.stopId === config.stopId) return false;
    this.logger.info(
      { from: previous?.stopId ?? null, to: config.stopId },
      'sign assigned to stop',
    );
    // The old stop's announcements came from topics the sign no longer follows.
    if (previous) this.cache.removeAnnouncementsFrom(`stop:${previous.stopId}`);
    return true;
  }

  applyArrivals(arrivals: ArrivalsData): void {
    if (!this.servesStop(arrivals.stopId)) return;
    const current = this.arrivals;
    // A redelivered older message must not replace newer predictions.
    if (current?.stopId === arrivals.stopId && arrivals.generatedAt < current.generatedAt) return;
    this.cache.saveArrivals(arrivals);
    this.arrivals = arrivals;
  }

  applySchedule(schedule: ScheduleData): void {
    if (!this.servesStop(schedule.stopId)) return;
    this.cache.replaceSchedule(schedule);
    this.scheduleStopId = schedule.stopId;
    this.logger.info(
      { stopId: schedule.stopId, departures: schedule.departures.length },
      'schedule cached',
    );
  }

  applyAnnouncement(announcement: AnnouncementData, source: AnnouncementSource): void {
    this.cache.upsertAnnouncement(announcement, source);
  }

  clearAnnouncements(source: AnnouncementSource): void {
    this.cache.removeAnnouncementsFrom(source);
  }

  /** True when the cached schedule is for the stop the sign serves. */
  scheduleFits(): boolean {
    return this.config !== null && this.scheduleStopId === this.config.stopId;
  }

  private servesStop(stopId: string): boolean {
    return this.config === null || this.config.stopId === stopId;
  }
}
