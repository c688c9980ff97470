/** Operator announcements, kept so they can be listed, withdrawn and re-sent after a restart. */
import type { AnnouncementData, StoredTarget } from '../../shared';

/** One retained announcement topic's owner: a sign, a stop, or every sign in the city. */
export type AnnouncementPlace = { deviceId: string } | { stopId: string } | { city: true };

export interface AnnouncementRecord extends AnnouncementData {
  target: StoredTarget;
  createdAt: number;
  withdrawn: boolean;
}

export type NewAnnouncement = Omit<AnnouncementRecord, 'withdrawn'>;

export interface AnnouncementRepository {
  add(record: NewAnnouncement): Promise<void>;
  get(announcementId: string): Promise<AnnouncementRecord | undefined>;
  /** Marks it withdrawn and returns it; undefined when there is no such announcement. */
  withdraw(announcementId: string): Promise<AnnouncementRecord | undefined>;
  /** Announcements not withdrawn and not expired at `now`, newest first. */
  active(now: number): Promise<AnnouncementRecord[]>;
  /**
   * The active announcements that share a place with `target` (a stop set
   * with every announcement to one of its stops, a stop with every set or
   * route covering it), in no particular order.
   */
  activeFor(target: StoredTarget, now: number): Promise<AnnouncementRecord[]>;
  /** Withdraws every active announcement aimed at that one sign or stop; returns how many. */
  withdrawFor(target: { deviceId: string } | { stopId: string }): Promise<number>;
  /** Every place that has ever had an announcement (to clear expired retained ones). */
  targets(): Promise<AnnouncementPlace[]>;
}

const PRIORITY_RANK: Record<AnnouncementData['priority'], number> = {
  emergency: 3,
  warning: 2,
  info: 1,
};

/**
 * The one announcement a target's retained topic should carry: MQTT keeps a
 * single retained message per topic, so the most urgent, then newest, wins
 * (the id breaks ties the same way on every manager).
 */
export function precedes(a: AnnouncementRecord, b: AnnouncementRecord): boolean {
  const byRank = PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority];
  if (byRank !== 0) return byRank > 0;
  if (a.createdAt !== b.createdAt) return a.createdAt > b.createdAt;
  return a.announcementId > b.announcementId;
}

export function mostUrgent(records: AnnouncementRecord[]): AnnouncementRecord | undefined {
  let best: AnnouncementRecord | undefined;
  for (const record of records) if (!best || precedes(record, best)) best = record;
  return best;
}

export type TargetKind = 'device' | 'stop' | 'stops' | 'route' | 'city';

/** The kind and id a target is stored under; a set of stops and the city have no id. */
export function targetKey(target: StoredTarget): [TargetKind, string] {
  if ('deviceId' in target) return ['device', target.deviceId];
  if ('stopId' in target) return ['stop', target.stopId];
  if ('routeId' in target) return ['route', target.routeId];
  if ('stopIds' in target) return ['stops', ''];
  return ['city', ''];
}

/** The places a target's announcement is retained on: one per sign, stop or the city. */
export function placesOf(target: StoredTarget): AnnouncementPlace[] {
  if ('stopIds' in target) return target.stopIds.map((stopId) => ({ stopId }));
  if ('deviceId' in target) return [{ deviceId: target.deviceId }];
  if ('stopId' in target) return [{ stopId: target.stopId }];
  return [{ city: true }];
}
