/**
 * Keeps every registered sign supplied: its config, its stop's schedule slice
 * (for offline use), the next arrivals, and the announcements aimed at it. All
 * are retained, so a sign that connects later gets the current state at once.
 */
import type { Logger } from 'pino';
import { parseTopic, topics, type AnnouncementTarget } from '../../shared';
import type { ScheduleSource } from '../gtfs/types';
import type { FleetLink } from '../link/fleetLink';
import { publishChangedBoards, type ArrivalBoards } from '../realtime/arrivalBoards';
import {
  mostUrgent,
  type AnnouncementRecord,
  type AnnouncementRepository,
} from '../store/announcementRepository';
import type { SignRecord, SignRepository } from '../store/signRepository';

export interface StopPublisherOptions {
  link: FleetLink;
  schedule: ScheduleSource;
  signs: SignRepository;
  announcements: AnnouncementRepository;
  /** Each stop's board (timetable plus realtime) and what was last sent there. */
  boards: ArrivalBoards;
  /** Called after a broker (re)connect, when nothing retained can be assumed to survive. */
  onRetainedLost?: () => void;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  publishIntervalSeconds: number;
  scheduleHorizonHours: number;
}

export class StopPublisher {
  private timer: NodeJS.Timeout | undefined;
  /** Stop id → epoch seconds until which the published schedule slice reaches. */
  private readonly scheduleReach = new Map<string, number>();
  /** Announcement topic → id of the announcement retained there ('' for cleared). */
  private readonly retainedAnnouncements = new Map<string, string>();
  private running: Promise<void> = Promise.resolve();
  private readonly onConnected = (): void => {
    // After a broker restart nothing retained survives: send everything again.
    this.scheduleReach.clear();
    this.retainedAnnouncements.clear();
    this.options.boards.forgetSent();
    this.options.onRetainedLost?.();
    void this.enqueue(() => this.publishEverything({ configs: true }));
  };

  private readonly onDrift = (topic: string): void => void this.enqueue(() => this.correct(topic));

  constructor(private readonly options: StopPublisherOptions) {}

  start(): void {
    this.options.link.on('connected', this.onConnected);
    this.options.link.on('drift', this.onDrift);
    // Configs are retained and only change on registration: the periodic pass leaves them alone.
    this.timer = setInterval(
      () => void this.enqueue(() => this.publishEverything({ configs: false })),
      this.options.publishIntervalSeconds * 1000,
    );
    void this.enqueue(() => this.publishEverything({ configs: true }));
  }

  async stop(): Promise<void> {
    this.options.link.off('connected', this.onConnected);
    this.options.link.off('drift', this.onDrift);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Publishing runs one pass at a time so retained topics never race each other. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.running.then(task).catch((err: unknown) => {
      this.options.logger.warn({ err: (err as Error).message }, 'publishing failed; will retry');
    });
    this.running = next;
    return next;
  }

  /**
   * A sign was registered or moved: its config changed. Its stop's slice,
   * arrivals and announcements are retained already when another sign is
   * there; only a stop new to the fleet needs them now.
   */
  signChanged(sign: SignRecord): Promise<void> {
    return this.enqueue(async () => {
      await this.publishConfig(sign);
      if (!this.scheduleReach.has(sign.stopId)) await this.publishStop(sign.stopId);
    });
  }

  /** Realtime changed: send the boards that changed, and only those. */
  publishArrivals(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.options.link.connected) return;
      const now = Math.floor(this.options.clock() / 1000);
      const stopIds = (await this.options.signs.stopIds()).filter((id) =>
        this.options.schedule.stop(id),
      );
      await publishChangedBoards(this.options.link, this.options.boards, stopIds, now);
    });
  }

  /** A new timetable was imported: every slice is out of date. */
  scheduleChanged(): Promise<void> {
    this.scheduleReach.clear();
    this.options.boards.scheduleChanged();
    return this.enqueue(() => this.publishEverything({ configs: true }));
  }

  /** With a target, only that target's topic is looked at: one query, at most one publish. */
  announcementsChanged(target?: AnnouncementTarget): Promise<void> {
    return this.enqueue(async () => {
      if (!target) return this.publishAnnouncements({ sweepHistory: false });
      const now = Math.floor(this.options.clock() / 1000);
      const current = mostUrgent(await this.options.announcements.activeFor(target, now));
      await this.retainAnnouncement(announcementTopic(target), current);
    });
  }

  /** Puts back what the manager retained on `topic`, or clears what it never put there. */
  private async correct(topic: string): Promise<void> {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    const { signs, announcements, link } = this.options;
    switch (parsed.kind) {
      case 'deviceConfig': {
        const sign = await signs.get(parsed.id);
        return sign ? this.publishConfig(sign) : link.clearRetained(topic);
      }
      case 'stopSchedule':
        this.scheduleReach.delete(parsed.id);
        return this.publishStop(parsed.id);
      case 'stopArrivals': {
        // Change-only publishing would see nothing new to send: the board goes out again as it
        // stands now (dated now, so a sign holding the stranger's copy takes it), and becomes
        // what was last sent.
        const now = Math.floor(this.options.clock() / 1000);
        const board = this.options.boards.build(parsed.id, now);
        await link.publish('stopArrivals', topic, board, true);
        this.options.boards.markSent(board);
        return undefined;
      }
      case 'deviceAnnouncement':
      case 'stopAnnouncement': {
        // Forgotten, so the retained one is sent again: the current one, or a clear.
        this.retainedAnnouncements.delete(topic);
        const now = Math.floor(this.options.clock() / 1000);
        const active = await announcements.active(now);
        const current = mostUrgent(active.filter((a) => announcementTopic(a.target) === topic));
        return this.retainAnnouncement(topic, current);
      }
      default:
        // Alerts are the realtime publisher's to put back; nothing else is retained here.
        return undefined;
    }
  }

  private async publishEverything(what: { configs: boolean }): Promise<void> {
    if (!this.options.link.connected) return;
    if (what.configs) {
      for (const sign of await this.options.signs.list()) await this.publishConfig(sign);
    }
    const stopIds = await this.options.signs.stopIds();
    // A stop no sign serves any more is not refreshed: forget its slice, so a sign coming back gets a fresh one.
    const served = new Set(stopIds);
    for (const stopId of this.scheduleReach.keys()) {
      if (!served.has(stopId)) this.scheduleReach.delete(stopId);
    }
    for (const stopId of stopIds) await this.publishStop(stopId);
    // After a start or reconnect this manager knows nothing retained: sweep every past target.
    await this.publishAnnouncements({ sweepHistory: what.configs });
  }

  private async publishConfig(sign: SignRecord): Promise<void> {
    const { schedule } = this.options;
    const stop = schedule.stop(sign.stopId);
    await this.options.link.publish(
      'deviceConfig',
      topics.deviceConfig(sign.deviceId),
      {
        deviceId: sign.deviceId,
        stopId: sign.stopId,
        ...(stop ? { stopName: stop.name } : {}),
        // A stop gone from the timetable still shows the agency's time, never UTC.
        timezone: stop?.timezone ?? schedule.timezone() ?? 'UTC',
        stopInFeed: stop !== undefined || !schedule.hasSchedule(),
      },
      true,
    );
  }

  private async publishStop(stopId: string): Promise<void> {
    const { schedule, link } = this.options;
    const stop = schedule.stop(stopId);
    if (!stop) {
      this.options.logger.warn({ stopId }, 'sign registered for a stop the schedule does not have');
      return;
    }
    const now = Math.floor(this.options.clock() / 1000);
    const horizon = this.options.scheduleHorizonHours * 3600;
    const reach = this.scheduleReach.get(stopId);
    // Refresh the offline slice once half of it has been used up.
    if (reach === undefined || reach - now < horizon / 2) {
      const departures = schedule.departures(stopId, now, now + horizon, 5000);
      await link.publish(
        'stopSchedule',
        topics.stopSchedule(stopId),
        {
          stopId,
          stopName: stop.name,
          timezone: stop.timezone,
          validFrom: now,
          validUntil: now + horizon,
          departures,
        },
        true,
      );
      this.scheduleReach.set(stopId, now + horizon);
    }
    await this.publishArrivalsOf(stopId, now);
  }

  /** Retained, and only when what the signs would show changed. */
  private async publishArrivalsOf(stopId: string, now: number): Promise<void> {
    await publishChangedBoards(this.options.link, this.options.boards, [stopId], now);
  }

  /**
   * One query for every active announcement, then at most one publish per
   * topic whose retained announcement changed: linear in their number.
   */
  private async publishAnnouncements(what: { sweepHistory: boolean }): Promise<void> {
    const { announcements } = this.options;
    const now = Math.floor(this.options.clock() / 1000);
    const byTopic = new Map<string, AnnouncementRecord[]>();
    for (const record of await announcements.active(now)) {
      const topic = announcementTopic(record.target);
      const list = byTopic.get(topic);
      if (list) list.push(record);
      else byTopic.set(topic, [record]);
    }
    // Topics that held one and now have none must be cleared.
    const held = what.sweepHistory
      ? (await announcements.targets()).map(announcementTopic)
      : [...this.retainedAnnouncements.keys()];
    for (const topic of held) if (!byTopic.has(topic)) byTopic.set(topic, []);
    for (const [topic, records] of byTopic) {
      await this.retainAnnouncement(topic, mostUrgent(records));
    }
  }

  /** Publishes `current` as the topic's retained announcement (or clears it) unless it is there. */
  private async retainAnnouncement(
    topic: string,
    current: AnnouncementRecord | undefined,
  ): Promise<void> {
    const retainedId = current?.announcementId ?? '';
    if (this.retainedAnnouncements.get(topic) === retainedId) return;
    if (current) {
      await this.options.link.publish(
        'deviceAnnouncement',
        topic,
        {
          announcementId: current.announcementId,
          text: current.text,
          priority: current.priority,
          expiresAt: current.expiresAt,
          ...(current.startsAt !== undefined ? { startsAt: current.startsAt } : {}),
        },
        true,
      );
    } else {
      await this.options.link.clearRetained(topic);
    }
    this.retainedAnnouncements.set(topic, retainedId);
  }
}

function announcementTopic(target: AnnouncementTarget): string {
  return 'deviceId' in target
    ? topics.deviceAnnouncement(target.deviceId)
    : topics.stopAnnouncement(target.stopId);
}
