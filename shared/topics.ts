/**
 * The one place that defines every MQTT topic of the protocol.
 * Identifiers are percent-encoded into a single topic level so a GTFS stop_id
 * containing '/', '+' or '#' can never escape its level or act as a wildcard.
 */
/** Carries the protocol version, so signs of different versions never read each other's messages. */
export const TOPIC_ROOT = 'stopsign/v2';

export type TopicKind =
  | 'deviceStatus'
  | 'deviceConfig'
  | 'deviceAnnouncement'
  | 'deviceFrame'
  | 'stopArrivals'
  | 'stopSchedule'
  | 'stopAnnouncement'
  | 'stopAlerts'
  | 'managerStatus'
  | 'managerHeartbeat'
  | 'cityAnnouncement'
  | 'deviceUpdateOffer'
  | 'deviceUpdateStatus'
  | 'deviceUpdateEvent';

const encode = (id: string): string => encodeURIComponent(id);

export const topics = {
  deviceStatus: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/status`,
  deviceConfig: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/config`,
  deviceAnnouncement: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/announcement`,
  deviceFrame: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/frame`,
  stopArrivals: (stopId: string) => `${TOPIC_ROOT}/stop/${encode(stopId)}/arrivals`,
  stopSchedule: (stopId: string) => `${TOPIC_ROOT}/stop/${encode(stopId)}/schedule`,
  stopAnnouncement: (stopId: string) => `${TOPIC_ROOT}/stop/${encode(stopId)}/announcement`,
  stopAlerts: (stopId: string) => `${TOPIC_ROOT}/stop/${encode(stopId)}/alerts`,
  managerStatus: () => `${TOPIC_ROOT}/manager/status`,
  managerHeartbeat: () => `${TOPIC_ROOT}/manager/heartbeat`,
  /** One retained announcement every sign in the city follows: a city-wide emergency is one message. */
  cityAnnouncement: () => `${TOPIC_ROOT}/city/announcement`,
  deviceUpdateOffer: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/update`,
  deviceUpdateStatus: (deviceId: string) =>
    `${TOPIC_ROOT}/device/${encode(deviceId)}/update-status`,
  deviceUpdateEvent: (deviceId: string) => `${TOPIC_ROOT}/device/${encode(deviceId)}/update-event`,
} as const satisfies Record<TopicKind, (...ids: string[]) => string>;

/** Subscription filters the manager uses to hear every sign. */
export const fleetFilters = {
  deviceStatus: `${TOPIC_ROOT}/device/+/status`,
  deviceFrame: `${TOPIC_ROOT}/device/+/frame`,
  deviceUpdateStatus: `${TOPIC_ROOT}/device/+/update-status`,
  deviceUpdateEvent: `${TOPIC_ROOT}/device/+/update-event`,
} as const;

export interface ParsedTopic {
  kind: TopicKind;
  /** Device id or stop id, decoded; empty for manager and city topics. */
  id: string;
}

const leafKinds: Record<string, Record<string, TopicKind>> = {
  device: {
    status: 'deviceStatus',
    config: 'deviceConfig',
    announcement: 'deviceAnnouncement',
    frame: 'deviceFrame',
    update: 'deviceUpdateOffer',
    'update-status': 'deviceUpdateStatus',
    'update-event': 'deviceUpdateEvent',
  },
  stop: {
    arrivals: 'stopArrivals',
    schedule: 'stopSchedule',
    announcement: 'stopAnnouncement',
    alerts: 'stopAlerts',
  },
};

/** Maps a concrete topic back to its kind; null for anything outside this protocol version. */
export function parseTopic(topic: string): ParsedTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const parts = topic.slice(prefix.length).split('/');
  if (parts.length === 2 && parts[0] === 'manager') {
    if (parts[1] === 'status') return { kind: 'managerStatus', id: '' };
    if (parts[1] === 'heartbeat') return { kind: 'managerHeartbeat', id: '' };
  }
  if (parts.length === 2 && parts[0] === 'city' && parts[1] === 'announcement') {
    return { kind: 'cityAnnouncement', id: '' };
  }
  if (parts.length !== 3) return null;
  const [scope, rawId, leaf] = parts as [string, string, string];
  const kind = leafKinds[scope]?.[leaf];
  if (!kind || rawId === '') return null;
  try {
    return { kind, id: decodeURIComponent(rawId) };
  } catch {
    return null;
  }
}

/** Device ids name a sign on its label and in topics: keep them short and plain. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
