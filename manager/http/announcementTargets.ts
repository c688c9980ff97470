/**
 * Turns a posted announcement target into the one the manager keeps: a route
 * becomes the stops it serves in the imported timetable, a set of stops is
 * checked stop by stop, and a target past one sign or stop needs a token that
 * may broadcast. Every refusal says what was wrong; nothing is stored.
 */
import {
  isBroadTarget,
  MAX_TARGET_STOPS,
  type AnnouncementTarget,
  type StoredTarget,
} from '../../shared';
import type { Principal } from '../access/principal';
import type { SignRecord } from '../store/signRepository';
import type { ManagerServices } from '../services';

export type TargetVerdict =
  { ok: true; target: StoredTarget } | { ok: false; status: 403 | 404 | 422; error: string };

/** How many unknown stops a refusal names before it just counts the rest. */
const NAMED_IN_REFUSAL = 10;

export async function resolveTarget(
  services: ManagerServices,
  principal: Principal,
  target: AnnouncementTarget,
): Promise<TargetVerdict> {
  if (
    isBroadTarget(target) &&
    principal.kind === 'token' &&
    principal.scopes.length > 0 &&
    !principal.scopes.includes('broadcast')
  ) {
    return {
      ok: false,
      status: 403,
      error: `announcing to a set of stops, a route or the whole city needs the broadcast scope; this token is limited to ${principal.scopes.join(', ')}`,
    };
  }
  if ('deviceId' in target) {
    return (await services.signs.get(target.deviceId))
      ? { ok: true, target }
      : { ok: false, status: 404, error: `no sign ${target.deviceId} is registered` };
  }
  if ('stopId' in target) {
    return (await services.signs.byStop(target.stopId)).length > 0
      ? { ok: true, target }
      : { ok: false, status: 404, error: `no sign is registered at stop ${target.stopId}` };
  }
  if ('stopIds' in target) return resolveStops(services, target.stopIds);
  if ('routeId' in target) return resolveRoute(services, target.routeId);
  return { ok: true, target };
}

/** A stop is known when the timetable has it or a sign stands there. */
async function resolveStops(services: ManagerServices, stopIds: string[]): Promise<TargetVerdict> {
  const served = new Set(await services.signs.stopIds());
  const unknown = stopIds.filter((id) => !served.has(id) && !services.schedule.stop(id));
  if (unknown.length > 0) {
    const named = unknown.slice(0, NAMED_IN_REFUSAL).join(', ');
    const more =
      unknown.length > NAMED_IN_REFUSAL ? ` and ${unknown.length - NAMED_IN_REFUSAL} more` : '';
    return {
      ok: false,
      status: 422,
      error: `unknown stops (not in the timetable, no sign there): ${named}${more}`,
    };
  }
  return { ok: true, target: { stopIds: [...stopIds].sort() } };
}

function resolveRoute(services: ManagerServices, routeId: string): TargetVerdict {
  if (!services.schedule.hasSchedule()) {
    return {
      ok: false,
      status: 422,
      error: 'no timetable is imported: a route cannot be resolved',
    };
  }
  const stopIds = services.schedule.routeStops(routeId);
  if (stopIds === undefined) {
    return { ok: false, status: 422, error: `the imported timetable has no route ${routeId}` };
  }
  if (stopIds.length === 0) {
    return { ok: false, status: 422, error: `route ${routeId} serves no stops in the timetable` };
  }
  if (stopIds.length > MAX_TARGET_STOPS) {
    return {
      ok: false,
      status: 422,
      error: `route ${routeId} serves ${stopIds.length} stops, more than ${MAX_TARGET_STOPS}: announce to the city instead`,
    };
  }
  return { ok: true, target: { routeId, stopIds } };
}

/** The registered signs an announcement to `target` reaches. */
export async function signsReached(
  services: ManagerServices,
  target: StoredTarget,
): Promise<SignRecord[]> {
  if ('deviceId' in target) {
    return [await services.signs.get(target.deviceId)].filter((s) => s !== undefined);
  }
  if ('stopId' in target) return services.signs.byStop(target.stopId);
  const signs = await services.signs.list();
  if (!('stopIds' in target)) return signs;
  const stops = new Set(target.stopIds);
  return signs.filter((s) => stops.has(s.stopId));
}
