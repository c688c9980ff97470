/**
 * Turns raw inbound MQTT messages into typed sign events. Anything that does not
 * check out is logged once and counted by "<kind>:<reason>", never thrown.
 */
import type { Logger } from 'pino';
import {
  decodeMessage,
  parseTopic,
  type DataOf,
  type RejectionCounter,
  type RejectReason,
  type TopicKind,
} from '../../shared';
import type { AnnouncementSource } from '../cache/signCache';
import type { ManagerLinkEvents } from './managerLink';
import { implausibleTime, type TimeReference } from './plausibleTimes';

export interface InboundRouterOptions {
  deviceId: string;
  currentStopId: () => string | null;
  counter: RejectionCounter;
  logger: Logger;
  /** What message times are judged against (the sign's ClockWatch decides). */
  reference: () => TimeReference;
  emit: <K extends keyof ManagerLinkEvents>(event: K, ...args: ManagerLinkEvents[K]) => void;
}

export class InboundRouter {
  /** startedAt of the manager the sign last heard say it is online; null before that. */
  private managerStartedAt: number | null = null;

  constructor(private readonly options: InboundRouterOptions) {}

  /** Decodes, then refuses what no clock could believe; undefined when refused (and counted). */
  private accept<K extends TopicKind>(
    kind: K,
    payload: Buffer,
    topic: string,
    topicId?: string,
  ): DataOf<K> | undefined {
    const m = decodeMessage(kind, payload, topicId);
    if (!m.ok) {
      this.reject(kind, m.reason, m.detail, topic);
      return undefined;
    }
    const problem = implausibleTime(
      kind,
      m.message.data,
      m.message.sentAt,
      this.options.reference(),
    );
    if (problem) {
      this.reject(kind, 'implausible-time', problem, topic);
      return undefined;
    }
    return m.message.data;
  }

  /**
   * Only the manager says it is offline: its will and its clean stop carry the
   * startedAt of its online status. An "offline" naming another instance (a
   * stranger's retained message, an old one) is refused.
   */
  private managerStatus(data: DataOf<'managerStatus'>, topic: string): void {
    if (data.state === 'online') {
      this.managerStartedAt = data.startedAt;
    } else if (this.managerStartedAt !== null && data.startedAt !== this.managerStartedAt) {
      return this.reject(
        'managerStatus',
        'not-from-manager',
        `offline for a manager started at ${data.startedAt}; the one online started at ${this.managerStartedAt}`,
        topic,
      );
    }
    this.options.emit('managerStatus', data);
  }

  route(topic: string, payload: Buffer): void {
    try {
      this.dispatch(topic, payload);
    } catch (err) {
      // A listener bug must not tear down the MQTT client's message pump.
      this.options.logger.error({ err: (err as Error).message, topic }, 'inbound handler failed');
    }
  }

  private reject(
    kind: TopicKind | 'unknown-topic',
    reason: RejectReason | 'unknown-topic',
    detail: string,
    topic: string,
  ): void {
    this.options.counter.record(kind, reason);
    this.options.logger.warn(
      { topic, kind, reason, detail: detail.slice(0, 300) },
      'rejected inbound message',
    );
  }

  private dispatch(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) {
      this.reject('unknown-topic', 'unknown-topic', 'not a protocol v1 topic', topic);
      return;
    }
    const { kind, id } = parsed;
    const stopId = this.options.currentStopId();
    if (kind.startsWith('stop') && id !== stopId) {
      // In flight from a stop this sign just stopped following: harmless, not an error.
      this.options.logger.debug({ topic }, 'ignored message for another stop');
      return;
    }
    if (kind.startsWith('device') && id !== this.options.deviceId) {
      this.reject('unknown-topic', 'unknown-topic', 'another device', topic);
      return;
    }
    const source: AnnouncementSource =
      kind === 'deviceAnnouncement'
        ? 'device'
        : kind === 'cityAnnouncement'
          ? 'city'
          : `stop:${id}`;
    const announcement =
      kind === 'deviceAnnouncement' || kind === 'stopAnnouncement' || kind === 'cityAnnouncement';
    if (announcement && payload.length === 0) {
      // A zero-length retained publish is how MQTT deletes the retained announcement.
      this.options.emit('announcementCleared', source);
      return;
    }
    const emit = this.options.emit;
    switch (kind) {
      case 'deviceConfig': {
        const data = this.accept(kind, payload, topic, id);
        return data && emit('config', data);
      }
      case 'stopArrivals': {
        const data = this.accept(kind, payload, topic, id);
        return data && emit('arrivals', data);
      }
      case 'stopSchedule': {
        const data = this.accept(kind, payload, topic, id);
        return data && emit('schedule', data);
      }
      case 'deviceAnnouncement':
      case 'stopAnnouncement':
      case 'cityAnnouncement': {
        const data = this.accept(kind, payload, topic);
        return data && emit('announcement', data, source);
      }
      case 'stopAlerts': {
        const data = this.accept(kind, payload, topic, id);
        return data && emit('alerts', data);
      }
      case 'managerHeartbeat': {
        // Not judged by the clock: it is the evidence the clock is judged by (ClockWatch).
        const m = decodeMessage(kind, payload);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('heartbeat', m.message.data, m.message.sentAt);
      }
      case 'managerStatus': {
        const data = this.accept(kind, payload, topic);
        return data && this.managerStatus(data, topic);
      }
      default:
        // Status and frames are what signs send, never what they receive.
        return this.reject('unknown-topic', 'unknown-topic', `unexpected ${kind}`, topic);
    }
  }
}
