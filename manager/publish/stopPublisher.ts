/**
 * Keeps every registered sign supplied: its config, its stop's schedule slice
 * (for offline use), the next arrivals, and the announcements aimed at it. All
 * are retained, so a sign that connects later gets the current state at once.
 */
import type { Logger } from 'pino';
import { parseTopic, topics, type StoredTarget } from '../../shared';
import { WholeFleet, type PublishShare } from '../cluster/publishShare';
import type { ScheduleSource } from '../gtfs/types';
import type { FleetLink } from '../link/fleetLink';
import { publishChangedBoards, type ArrivalBoards } from '../realtime/arrivalBoards';
import {
  mostUrgent,
  placesOf,
  type AnnouncementRecord,
  type AnnouncementRepository,
} from '../store/announcementRepository';
import { placeOf, placeTopic, recordsByTopic } from './announcementTopics';
import type { SignRecord, SignRepository } from '../store/signRepository';

/** Retained announcements published at once: a district's go out together, not one round trip each. */
const PUBLISH_IN_FLIGHT = 200;

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
  /** Agency id sent to every sign (its abbreviation table). */
  agency?: string;
  /** This manager's part of the fleet when several share a broker; alone, the whole fleet. */
  share?: PublishShare;
}

export class StopPublisher {
  private timer: NodeJS.Timeout | undefined;
  /** Stop id → epoch seconds until which the published schedule slice reaches. */
  private readonly scheduleReach = new Map<string, number>();
  private readonly share: PublishShare;
  private running: Promise<void> = Promise.resolve();
  private readonly onConnected = (): void => {
    // After a broker restart nothing retained survives: send this manager's share again.
    this.scheduleReach.clear();
    this.options.boards.forgetSent();
    this.options.onRetainedLost?.();
    void this.enqueue(() => this.publishEverything({ configs: true, resend: true }));
  };
  /** Managers came or went: publish the stops that came to this one now, not next round. */
  private readonly onShareChanged = (): void => {
    void this.enqueue(() => this.publishEverything({ configs: false, resend: false }));
  };

  private readonly onDrift = (topic: string): void => void this.enqueue(() => this.correct(topic));

  constructor(private readonly options: StopPublisherOptions) {
    this.share = options.share ?? new WholeFleet();
  }

  start(): void {
    this.options.link.on('connected', this.onConnected);
    this.options.link.on('drift', this.onDrift);
    this.share.on('changed', this.onShareChanged);
    // Configs are retained and only change on registration: the periodic pass leaves them alone.
    this.timer = setInterval(
      () => void this.enqueue(() => this.publishEverything({ configs: false, resend: false })),
      this.options.publishIntervalSeconds * 1000,
    );
    void this.enqueue(() => this.publishEverything({ configs: true, resend: true }));
  }

  async stop(): Promise<void> {
    this.options.link.off('connected', this.onConnected);
    this.options.link.off('drift', this.onDrift);
    this.share.off('changed', this.onShareChanged);
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
      if (this.scheduleReach.has(sign.stopId)) return;
      // Among several managers, the one holding the stop this round sends it (now or in its next pass).
      const nowMs = this.options.clock();
      const [held] = await this.share.claimStops([sign.stopId], nowMs);
      if (held !== undefined) await this.publishStop(held, Math.floor(nowMs / 1000));
    });
  }

  /** Realtime changed: send the boards that changed, and only those, of the stops held this round. */
  publishArrivals(): Promise<void> {
    return this.enqueue(async () => {
      if (!this.options.link.connected) return;
      const nowMs = this.options.clock();
      const stopIds = (await this.options.signs.stopIds()).filter((id) =>
        this.options.schedule.stop(id),
      );
      const held = await this.holdStops(stopIds, nowMs);
      await publishChangedBoards(
        this.options.link,
        this.options.boards,
        [...held],
        Math.floor(nowMs / 1000),
      );
    });
  }

  /**
   * The stops of `stopIds` this manager publishes in the round of `nowMs`
   * (all of them when it is alone). What it last sent to any other stop is
   * forgotten: another manager may have sent that stop something since, so
   * when the stop comes back here it is sent afresh.
   */
  async holdStops(stopIds: readonly string[], nowMs: number): Promise<Set<string>> {
    const held = new Set(await this.share.claimStops(stopIds, nowMs));
    this.options.boards.forgetSentExcept(held);
    for (const stopId of this.scheduleReach.keys()) {
      if (!held.has(stopId)) this.scheduleReach.delete(stopId);
    }
    return held;
  }

  /** A new timetable was imported: every slice is out of date. */
  scheduleChanged(): Promise<void> {
    this.scheduleReach.clear();
    this.options.boards.scheduleChanged();
    return this.enqueue(() => this.publishEverything({ configs: true, resend: false }));
  }

  /**
   * With a target, only that target's topics are looked at: one query for the
   * announcements sharing a place with it, at most one publish per topic.
   */
  announcementsChanged(target?: StoredTarget): Promise<void> {
    return this.enqueue(async () => {
      if (!target) return this.publishAnnouncements({ resend: false });
      const now = Math.floor(this.options.clock() / 1000);
      const targetTopics = placesOf(target).map(placeTopic);
      const active = await this.options.announcements.activeFor(target, now);
      const byTopic = recordsByTopic(active, new Set(targetTopics));
      const due = new Map(
        targetTopics.map((topic) => [topic, mostUrgent(byTopic.get(topic) ?? [])] as const),
      );
      await this.deliverAnnouncements(due, false);
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
        return this.publishStop(parsed.id, Math.floor(this.options.clock() / 1000));
      case 'stopArrivals': {
        // Change-only publishing would see nothing new to send: the board goes out again as it
        // stands now (dated now, so a sign holding the stranger's copy takes it), and becomes
        // what was last sent.
        const now = Math.floor(this.options.clock() / 1000);
        const board = await this.options.boards.buildNow(parsed.id, now);
        await link.publish('stopArrivals', topic, board, true);
        this.options.boards.markSent(board);
        return undefined;
      }
      case 'deviceAnnouncement':
      case 'stopAnnouncement':
      case 'cityAnnouncement': {
        // Sent again whatever was sent before: the current one, or a clear. One indexed query for
        // that one place, so a burst of drifted topics costs each its own, not every active one.
        const now = Math.floor(this.options.clock() / 1000);
        const place = placeOf(parsed.kind, parsed.id);
        const covering = recordsByTopic(
          await announcements.activeFor(place, now),
          new Set([topic]),
        );
        return this.deliverAnnouncements(
          new Map([[topic, mostUrgent(covering.get(topic) ?? [])]]),
          true,
        );
      }
      default:
        // Alerts are the realtime publisher's to put back; nothing else is retained here.
        return undefined;
    }
  }

  /**
   * Every stop this manager holds this round: its slice when due, its
   * arrivals. `configs`: the signs' configs too. `resend`: after a start or a
   * reconnect nothing retained can be assumed, so announcements are sent again.
   */
  private async publishEverything(what: { configs: boolean; resend: boolean }): Promise<void> {
    if (!this.options.link.connected) return;
    const nowMs = this.options.clock();
    const now = Math.floor(nowMs / 1000);
    // A stop no sign serves any more, or another manager's, is not refreshed here; its slice
    // is forgotten, so a sign coming back (or the stop coming back here) gets a fresh one.
    const held = await this.holdStops(await this.options.signs.stopIds(), nowMs);
    if (what.configs) {
      for (const sign of await this.options.signs.list()) {
        if (held.has(sign.stopId)) await this.publishConfig(sign);
      }
    }
    for (const stopId of held) await this.publishStop(stopId, now);
    await this.publishAnnouncements({ resend: what.resend });
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
        panelProfile: sign.panelProfile,
        ...(this.options.agency ? { agency: this.options.agency } : {}),
      },
      true,
    );
  }

  /** `now` is the pass's, so every message of a pass says the same time as its round. */
  private async publishStop(stopId: string, now: number): Promise<void> {
    const { schedule, link } = this.options;
    const stop = schedule.stop(stopId);
    if (!stop) {
      this.options.logger.warn({ stopId }, 'sign registered for a stop the schedule does not have');
      return;
    }
    const horizon = this.options.scheduleHorizonHours * 3600;
    const reach = this.scheduleReach.get(stopId);
    // Refresh the offline slice once half of it has been used up.
    if (reach === undefined || reach - now < horizon / 2) {
      const departures = await schedule.departures(stopId, now, now + horizon, 5000);
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
  private async publishAnnouncements(what: { resend: boolean }): Promise<void> {
    const { announcements } = this.options;
    const now = Math.floor(this.options.clock() / 1000);
    // A set of stops or a route counts on each of its stops' topics, beside that stop's own.
    const byTopic = recordsByTopic(await announcements.active(now));
    // Topics that held one and now have none must be cleared; after a start or
    // reconnect nothing is known to be retained, so that is every past place.
    const carrying = await this.share.carrying();
    const held = what.resend
      ? (await announcements.targets()).map(placeTopic)
      : [...carrying.keys()];
    for (const topic of held) if (!byTopic.has(topic)) byTopic.set(topic, []);
    const due = new Map<string, AnnouncementRecord | undefined>();
    for (const [topic, records] of byTopic) {
      if (!this.share.ownsTopic(topic)) continue;
      const current = mostUrgent(records);
      // Unchanged since it was last sent (by any manager): no store write needed to know that.
      if (!what.resend && (carrying.get(topic) ?? '') === (current?.announcementId ?? '')) continue;
      due.set(topic, current);
    }
    await this.deliverAnnouncements(due, what.resend);
  }

  /**
   * Publishes each topic's announcement (or clears the topic) unless it was
   * sent there already; with `resend`, whatever was sent before. Recorded
   * before they are sent, in batches, and sent together: a district is
   * thousands of topics.
   */
  private async deliverAnnouncements(
    due: ReadonlyMap<string, AnnouncementRecord | undefined>,
    resend: boolean,
  ): Promise<void> {
    if (due.size === 0) return;
    const deliveries = [...due].map(([topic, current]) => ({
      topic,
      announcementId: current?.announcementId ?? '',
    }));
    let send = [...due];
    if (resend) await this.share.overwriteAnnouncements(deliveries);
    else {
      const changed = await this.share.recordAnnouncements(deliveries);
      send = send.filter(([topic]) => changed.has(topic));
    }
    for (let i = 0; i < send.length; i += PUBLISH_IN_FLIGHT) {
      await Promise.all(
        send
          .slice(i, i + PUBLISH_IN_FLIGHT)
          .map(([topic, current]) => this.retainAnnouncement(topic, current)),
      );
    }
  }

  /** Publishes `current` as the topic's retained announcement, or clears the topic. */
  private async retainAnnouncement(
    topic: string,
    current: AnnouncementRecord | undefined,
  ): Promise<void> {
    if (current) {
      await this.options.link.publish(
        'deviceAnnouncement',
        topic,
        {
          announcementId: current.announcementId,
          text: current.text,
          priority: current.priority,
          ...(current.tts ? { tts: current.tts } : {}),
          expiresAt: current.expiresAt,
          ...(current.startsAt !== undefined ? { startsAt: current.startsAt } : {}),
        },
        true,
      );
    } else {
      await this.options.link.clearRetained(topic);
    }
  }
}
