/** Operator announcements, kept so they can be listed, withdrawn and re-sent after a restart. */
import type { AnnouncementData, AnnouncementTarget } from '../../shared';

export interface AnnouncementRecord extends AnnouncementData {
  target: AnnouncementTarget;
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
  /** The active announcements aimed at one target (a sign or a stop), in no particular order. */
  activeFor(target: AnnouncementTarget, now: number): Promise<AnnouncementRecord[]>;
  /** Withdraws every active announcement aimed at the target; returns how many. */
  withdrawFor(target: AnnouncementTarget): Promise<number>;
  /** Every target that has ever had an announcement (to clear expired retained ones). */
  targets(): Promise<AnnouncementTarget[]>;
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

export function targetKey(target: AnnouncementTarget): ['device' | 'stop', string] {
  return 'deviceId' in target ? ['device', target.deviceId] : ['stop', target.stopId];
}
