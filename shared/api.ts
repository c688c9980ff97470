/**
 * Request bodies of the manager's HTTP API, shared with any client (the
 * console, operator scripts). The server validates every body against these.
 */
import { z } from 'zod';
import { panelProfileId } from './panelProfile';
import { deviceId, localizedText, signText, spokenText, stopId } from './schemas';

/** A new sign (it gets a claim code; without a deviceId one is made up) or a move of one. */
export const registerSignRequest = z.object({
  deviceId: deviceId.optional(),
  stopId,
  label: signText(100).optional(),
  /** The sign's glass (a shipped panel profile id); kept when omitted on a move. */
  panelProfile: panelProfileId.optional(),
});
export type RegisterSignRequest = z.infer<typeof registerSignRequest>;

/** Many new signs at once (a depot's delivery, a fleet simulation), in one transaction. */
export const registerSignsRequest = z
  .object({ signs: z.array(registerSignRequest).min(1).max(1000) })
  .strict();

/** The most stops one announcement may name: a district, not a city (that is `{ city: true }`). */
export const MAX_TARGET_STOPS = 5000;

/** A route's id, as in the imported timetable's routes.txt. */
export const routeId = z.string().min(1).max(128);

const stopSet = z
  .array(stopId)
  .min(1, 'stopIds needs at least one stop')
  .max(MAX_TARGET_STOPS, `stopIds may name at most ${MAX_TARGET_STOPS} stops`)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'stopIds has a stop twice' });

const targetKinds = {
  deviceId: z.object({ deviceId }).strict(),
  stopId: z.object({ stopId }).strict(),
  stopIds: z.object({ stopIds: stopSet }).strict(),
  routeId: z.object({ routeId }).strict(),
  city: z.object({ city: z.literal(true) }).strict(),
};

/**
 * A union only says that no kind matched; the kind the body names (its one
 * key) says what was wrong with it, e.g. a set of 6000 stops.
 */
function targetProblem(input: unknown): string {
  const expected =
    'target must be one of { deviceId }, { stopId }, { stopIds: [...] }, { routeId }, { city: true }';
  if (typeof input !== 'object' || input === null) return expected;
  const keys = Object.keys(input);
  const kind = keys.length === 1 ? targetKinds[keys[0] as keyof typeof targetKinds] : undefined;
  const parsed = kind?.safeParse(input);
  if (!parsed || parsed.success) return expected;
  return parsed.error.issues
    .map((issue) => `target.${issue.path.map(String).join('.')}: ${issue.message}`)
    .join('; ');
}

/**
 * Who an announcement is for: one sign, one stop, a chosen set of stops, every
 * stop a route serves, or every sign in the city.
 */
export const announcementTarget = z.union(
  [
    targetKinds.deviceId,
    targetKinds.stopId,
    targetKinds.stopIds,
    targetKinds.routeId,
    targetKinds.city,
  ],
  { error: (issue) => targetProblem(issue.input) },
);
export type AnnouncementTarget = z.infer<typeof announcementTarget>;

/**
 * A target as the manager keeps it: a route's stops are resolved from the
 * timetable when it is posted, so withdrawing or expiry clears exactly the
 * stops it was sent to, whatever a later timetable says.
 */
export type StoredTarget =
  Exclude<AnnouncementTarget, { routeId: string }> | { routeId: string; stopIds: string[] };

/** Targets past one sign or one stop; a token needs the `broadcast` scope for them. */
export function isBroadTarget(target: AnnouncementTarget | StoredTarget): boolean {
  return !('deviceId' in target) && !('stopId' in target);
}

export const postAnnouncementRequest = z
  .object({
    target: announcementTarget,
    text: localizedText.refine((t) => t.en.trim() !== '' || (t.zh ?? '').trim() !== '', {
      message: 'text needs words in at least one language',
    }),
    priority: z.enum(['info', 'warning', 'emergency']).default('info'),
    /** Spoken instead of the text by signs with a speaker, per language. */
    tts: spokenText.optional(),
    /** How long it stays up; defaults to one hour. */
    durationSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 24 * 3600)
      .default(3600),
    startsAt: z.number().int().nonnegative().optional(),
  })
  .strict();
export type PostAnnouncementRequest = z.input<typeof postAnnouncementRequest>;
