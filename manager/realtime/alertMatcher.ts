/**
 * ServiceAlerts matched to a stop through their informed_entity selectors
 * (agency, route, route type, stop, trip) and active periods, with the header
 * and description picked per language from the translations.
 */
import { stripForbidden, type AgencyAlert, type LocalizedText } from '../../shared';
import type { InformedEntity, ServiceAlert, Translation } from './feedModel';
import type { StaticLookup } from './staticLookup';

const MAX_HEADER = 200;
const MAX_DESCRIPTION = 1000;

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** English (or the untagged text) and Chinese when the agency gives it. */
export function pickLanguages(translations: Translation[], max: number): LocalizedText | undefined {
  const tagged = (prefix: string) =>
    translations.find((t) => t.language?.toLowerCase().split(/[-_]/)[0] === prefix);
  const en = tagged('en') ?? translations.find((t) => !t.language) ?? translations[0];
  if (!en) return undefined;
  const zh = tagged('zh');
  return zh ? { en: clip(en.text, max), zh: clip(zh.text, max) } : { en: clip(en.text, max) };
}

export function isActive(alert: ServiceAlert, now: number): boolean {
  if (alert.activePeriods.length === 0) return true;
  return alert.activePeriods.some(
    (p) => (p.start === undefined || p.start <= now) && (p.end === undefined || now < p.end),
  );
}

/** Whether one selector names this stop; the route it narrows to, when it does. */
function selects(
  selector: InformedEntity,
  stopId: string,
  lookup: StaticLookup,
): { routeId?: string } | null {
  if (selector.stopId !== undefined) {
    if (selector.stopId !== stopId && lookup.parentOf(stopId) !== selector.stopId) return null;
    // Named by stop: it is about this stop, even for a route the timetable does not bring here
    // (a detour is exactly that).
    if (selector.tripId === undefined) {
      return selector.routeId === undefined ? {} : { routeId: selector.routeId };
    }
  }
  const routesHere = lookup.routesAt(stopId);
  if (selector.tripId !== undefined) {
    const trip = lookup.trip(selector.tripId);
    if (!trip || !trip.stops.some((s) => s.stopId === stopId || s.parentId === stopId)) return null;
    return { routeId: trip.routeId };
  }
  if (selector.routeId !== undefined) {
    if (!routesHere.has(selector.routeId)) return null;
    return { routeId: selector.routeId };
  }
  if (selector.routeType !== undefined) {
    const type = selector.routeType;
    if (![...routesHere].some((id) => lookup.route(id)?.routeType === type)) return null;
    return {};
  }
  if (selector.agencyId !== undefined) {
    const agency = selector.agencyId;
    if (![...routesHere].some((id) => lookup.route(id)?.agencyId === agency)) return null;
    return {};
  }
  // A selector naming only the stop is about the whole stop.
  return selector.stopId !== undefined ? {} : null;
}

export function alertsForStop(
  stopId: string,
  alerts: ServiceAlert[],
  lookup: StaticLookup,
  now: number,
): AgencyAlert[] {
  const found: AgencyAlert[] = [];
  for (const alert of alerts) {
    if (!isActive(alert, now)) continue;
    let matched = false;
    let wholeStop = false;
    const routeIds = new Set<string>();
    for (const selector of alert.informedEntities) {
      const hit = selects(selector, stopId, lookup);
      if (!hit) continue;
      matched = true;
      if (hit.routeId === undefined) wholeStop = true;
      else routeIds.add(hit.routeId);
    }
    const header = pickLanguages(alert.header, MAX_HEADER);
    if (!matched || !header) continue;
    const result: AgencyAlert = {
      alertId: alert.entityId.slice(0, 128),
      source: 'agency',
      header,
      routes: wholeStop
        ? []
        : [...routeIds]
            .map((id) => (lookup.route(id)?.route ?? stripForbidden(id).text).slice(0, 32))
            .slice(0, 50),
    };
    const description = pickLanguages(alert.description, MAX_DESCRIPTION);
    if (description) result.description = description;
    if (alert.effect) result.effect = alert.effect.slice(0, 40);
    const ends = alert.activePeriods
      .filter(
        (p) => (p.start === undefined || p.start <= now) && p.end !== undefined && now < p.end,
      )
      .map((p) => p.end!);
    if (ends.length > 0) result.activeUntil = Math.max(...ends);
    found.push(result);
    if (found.length >= 10) break;
  }
  return found;
}
