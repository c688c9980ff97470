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

export const announcementTarget = z.union([
  z.object({ deviceId }).strict(),
  z.object({ stopId }).strict(),
]);
export type AnnouncementTarget = z.infer<typeof announcementTarget>;

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
