/**
 * Where announcements are retained: one topic per sign, per stop and one for
 * the whole city. A set of stops or a route is its stops' topics, so each
 * stop's topic still carries the one most urgent announcement covering it.
 */
import { topics } from '../../shared';
import {
  placesOf,
  type AnnouncementPlace,
  type AnnouncementRecord,
} from '../store/announcementRepository';

export function placeTopic(place: AnnouncementPlace): string {
  if ('deviceId' in place) return topics.deviceAnnouncement(place.deviceId);
  if ('stopId' in place) return topics.stopAnnouncement(place.stopId);
  return topics.cityAnnouncement();
}

/** The place an announcement topic of `kind` and `id` (from parseTopic) belongs to. */
export function placeOf(
  kind: 'deviceAnnouncement' | 'stopAnnouncement' | 'cityAnnouncement',
  id: string,
): AnnouncementPlace {
  if (kind === 'deviceAnnouncement') return { deviceId: id };
  if (kind === 'stopAnnouncement') return { stopId: id };
  return { city: true };
}

/**
 * Topic → the records covering it, in the records' order; with `only`, just
 * those topics. Linear in the topics the records cover.
 */
export function recordsByTopic(
  records: readonly AnnouncementRecord[],
  only?: ReadonlySet<string>,
): Map<string, AnnouncementRecord[]> {
  const byTopic = new Map<string, AnnouncementRecord[]>();
  for (const record of records) {
    for (const place of placesOf(record.target)) {
      const topic = placeTopic(place);
      if (only && !only.has(topic)) continue;
      const list = byTopic.get(topic);
      if (list) list.push(record);
      else byTopic.set(topic, [record]);
    }
  }
  return byTopic;
}
