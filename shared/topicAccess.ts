/**
 * Which MQTT topics a sign may use, derived from the topic table: a sign
 * publishes only its own device topics that signs send, and subscribes only to
 * its own device topics the manager sends, its stop's topics, the manager's
 * and the city's.
 * The embedded broker checks every packet against this; the Mosquitto driver
 * turns it into ACLs. A new topic kind must say here who publishes it.
 */
import { topics, type TopicKind } from './topics';

export interface TopicRole {
  /** Whose topic: one sign's, one stop's, or one for every sign (the manager's, the city's). */
  scope: 'device' | 'stop' | 'manager' | 'city';
  publisher: 'sign' | 'manager';
  /**
   * The sign's update agent, not the sign's own session, uses this device topic: it connects
   * as update:<deviceId> with the sign's secret, and may touch these topics only.
   */
  agent?: true;
}

/** Username and client id prefix of a sign's update agent; ':' never occurs in a device id. */
export const UPDATE_AGENT_PREFIX = 'update:';
export const updateAgentUsername = (deviceId: string): string =>
  `${UPDATE_AGENT_PREFIX}${deviceId}`;

export const topicRoles = {
  deviceStatus: { scope: 'device', publisher: 'sign' },
  deviceConfig: { scope: 'device', publisher: 'manager' },
  deviceAnnouncement: { scope: 'device', publisher: 'manager' },
  deviceFrame: { scope: 'device', publisher: 'sign' },
  stopArrivals: { scope: 'stop', publisher: 'manager' },
  stopSchedule: { scope: 'stop', publisher: 'manager' },
  stopAnnouncement: { scope: 'stop', publisher: 'manager' },
  stopAlerts: { scope: 'stop', publisher: 'manager' },
  managerStatus: { scope: 'manager', publisher: 'manager' },
  managerHeartbeat: { scope: 'manager', publisher: 'manager' },
  cityAnnouncement: { scope: 'city', publisher: 'manager' },
  deviceUpdateOffer: { scope: 'device', publisher: 'manager', agent: true },
  deviceUpdateStatus: { scope: 'device', publisher: 'sign', agent: true },
  deviceUpdateEvent: { scope: 'device', publisher: 'sign', agent: true },
} as const satisfies Record<TopicKind, TopicRole>;

const kinds = Object.keys(topicRoles) as TopicKind[];

function topicOf(kind: TopicKind, deviceId: string, stopId: string | null): string | null {
  const role: TopicRole = topicRoles[kind];
  if (role.scope === 'device') return topics[kind](deviceId);
  if (role.scope === 'stop') return stopId === null ? null : topics[kind](stopId);
  return topics[kind]('');
}

export interface SignTopicGrant {
  /** Exact topics the sign may publish to. */
  publish: string[];
  /** Exact topics (never filters) the sign may subscribe to. */
  subscribe: string[];
}

/** Everything one sign may touch while it belongs to `stopId` (null: not placed yet). */
export function signTopicGrant(deviceId: string, stopId: string | null): SignTopicGrant {
  const publish: string[] = [];
  const subscribe: string[] = [];
  for (const kind of kinds) {
    if (isAgentTopic(kind)) continue;
    const topic = topicOf(kind, deviceId, stopId);
    if (topic === null) continue;
    if (topicRoles[kind].publisher === 'sign') publish.push(topic);
    else subscribe.push(topic);
  }
  return { publish, subscribe };
}

function isAgentTopic(kind: TopicKind): boolean {
  const role: TopicRole = topicRoles[kind];
  return role.agent === true;
}

/** Everything a sign's update agent may touch: its offer in, its status and events out. */
export function updateAgentTopicGrant(deviceId: string): SignTopicGrant {
  const publish: string[] = [];
  const subscribe: string[] = [];
  for (const kind of kinds.filter(isAgentTopic)) {
    const topic = topics[kind](deviceId);
    if (topicRoles[kind].publisher === 'sign') publish.push(topic);
    else subscribe.push(topic);
  }
  return { publish, subscribe };
}

/** Every topic of one sign's own device scope, to clear when it is deleted. */
export function deviceTopics(deviceId: string): string[] {
  return kinds
    .filter((kind) => topicRoles[kind].scope === 'device')
    .map((kind) => topics[kind](deviceId));
}
