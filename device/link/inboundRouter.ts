/**
 * Turns raw inbound MQTT messages into typed sign events. Anything that does not
 * check out is logged once and counted by "<kind>:<reason>", never thrown.
 */
import type { Logger } from 'pino';
import {
  decodeMessage,
  parseTopic,
  type RejectionCounter,
  type RejectReason,
  type TopicKind,
} from '../../shared';
import type { AnnouncementSource } from '../cache/signCache';
import type { ManagerLinkEvents } from './managerLink';

export interface InboundRouterOptions {
  deviceId: string;
  currentStopId: () => string | null;
  counter: RejectionCounter;
  logger: Logger;
  emit: <K extends keyof ManagerLinkEvents>(event: K, ...args: ManagerLinkEvents[K]) => void;
}

export class InboundRouter {
  constructor(private readonly options: InboundRouterOptions) {}

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
    const source: AnnouncementSource = kind === 'deviceAnnouncement' ? 'device' : `stop:${id}`;
    if ((kind === 'deviceAnnouncement' || kind === 'stopAnnouncement') && payload.length === 0) {
      // A zero-length retained publish is how MQTT deletes the retained announcement.
      this.options.emit('announcementCleared', source);
      return;
    }
    const emit = this.options.emit;
    switch (kind) {
      case 'deviceConfig': {
        const m = decodeMessage(kind, payload, id);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('config', m.message.data);
      }
      case 'stopArrivals': {
        const m = decodeMessage(kind, payload, id);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('arrivals', m.message.data);
      }
      case 'stopSchedule': {
        const m = decodeMessage(kind, payload, id);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('schedule', m.message.data);
      }
      case 'deviceAnnouncement':
      case 'stopAnnouncement': {
        const m = decodeMessage(kind, payload);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('announcement', m.message.data, source);
      }
      case 'stopAlerts': {
        const m = decodeMessage(kind, payload, id);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('alerts', m.message.data);
      }
      case 'managerHeartbeat': {
        const m = decodeMessage(kind, payload);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('heartbeat', m.message.data, m.message.sentAt);
      }
      case 'managerStatus': {
        const m = decodeMessage(kind, payload);
        if (!m.ok) return this.reject(kind, m.reason, m.detail, topic);
        return emit('managerStatus', m.message.data);
      }
      default:
        // Status and frames are what signs send, never what they receive.
        return this.reject('unknown-topic', 'unknown-topic', `unexpected ${kind}`, topic);
    }
  }
}
