/**
 * Message schemas of protocol v1. Each gives both the static type (z.infer) and
 * the runtime check used at every MQTT boundary. Unknown fields are stripped, so
 * a newer peer may add optional fields without breaking an older one; anything
 * that changes meaning bumps PROTOCOL_VERSION instead.
 */
import { z } from 'zod';
import type { TopicKind } from './topics';
import { textProblem } from './text';
import { DEVICE_ID_PATTERN } from './topics';

export const PROTOCOL_VERSION = 1;

const epochSeconds = z.number().int().nonnegative();
/** Shown on the glass: no control or bidi characters (shared/text.ts), on the way out or in. */
export const signText = (max: number) =>
  z
    .string()
    .max(max)
    .check((ctx) => {
      const problem = textProblem(ctx.value);
      if (problem) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
    });
const shortText = signText(200);

/** Passenger text: English is always present, Chinese when the agency provides it. */
export const localizedText = z.object({
  en: shortText,
  zh: shortText.optional(),
});
export type LocalizedText = z.infer<typeof localizedText>;

export const deviceId = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'device id must be 1-64 of A-Z a-z 0-9 . _ -');
export const stopId = z.string().min(1).max(128);

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM');

export const arrival = z.object({
  tripId: z.string().max(128),
  routeId: z.string().max(128),
  /** What the passenger reads as the route: GTFS route_short_name, else long name. */
  route: signText(32),
  headsign: localizedText,
  /** Predicted (live) or scheduled departure, epoch seconds. */
  time: epochSeconds,
  scheduledTime: epochSeconds,
  realtime: z.boolean(),
});
export type Arrival = z.infer<typeof arrival>;

export const arrivalsData = z.object({
  stopId,
  generatedAt: epochSeconds,
  arrivals: z.array(arrival).max(50),
});
export type ArrivalsData = z.infer<typeof arrivalsData>;

export const scheduledDeparture = arrival.omit({ realtime: true, scheduledTime: true });
export type ScheduledDeparture = z.infer<typeof scheduledDeparture>;

export const scheduleData = z.object({
  stopId,
  stopName: localizedText,
  timezone: z.string().min(1).max(64),
  validFrom: epochSeconds,
  validUntil: epochSeconds,
  departures: z.array(scheduledDeparture).max(5000),
});
export type ScheduleData = z.infer<typeof scheduleData>;

export const announcementData = z.object({
  announcementId: z.string().min(1).max(64),
  text: localizedText,
  priority: z.enum(['info', 'warning', 'emergency']),
  startsAt: epochSeconds.optional(),
  expiresAt: epochSeconds,
});
export type AnnouncementData = z.infer<typeof announcementData>;

export const deviceConfigData = z.object({
  deviceId,
  stopId,
  stopName: localizedText.optional(),
  timezone: z.string().min(1).max(64),
  /** Seconds each language page stays up before the sign switches language. */
  pageSeconds: z.number().int().min(2).max(60).default(5),
  brightness: z
    .object({
      day: z.number().int().min(0).max(100),
      night: z.number().int().min(0).max(100),
      nightStart: hhmm,
      nightEnd: hhmm,
    })
    .default({ day: 80, night: 25, nightStart: '22:00', nightEnd: '06:00' }),
});
export type DeviceConfigData = z.infer<typeof deviceConfigData>;

export const deviceStatusData = z.object({
  deviceId,
  state: z.enum(['online', 'offline']),
  firmware: z.string().max(64),
  stopId: stopId.optional(),
  /** What the glass shows: live predictions, scheduled times from the cache, or nothing to show. */
  mode: z.enum(['live', 'scheduled', 'none']),
  startedAt: epochSeconds,
  rssBytes: z.number().int().nonnegative().optional(),
  /** Rejected inbound messages by "<topic kind>:<reason>". */
  rejected: z.record(z.string(), z.number().int().nonnegative()).default({}),
  panel: z
    .object({
      ok: z.boolean(),
      framesSent: z.number().int().nonnegative(),
      retries: z.number().int().nonnegative(),
      lastError: z.string().max(200).optional(),
    })
    .optional(),
});
export type DeviceStatusData = z.infer<typeof deviceStatusData>;

export const deviceFrameData = z.object({
  width: z.number().int().positive().max(1024),
  height: z.number().int().positive().max(1024),
  renderedAt: epochSeconds,
  /** PNG of the frame as the glass shows it, base64. */
  png: z.string().max(120_000),
});
export type DeviceFrameData = z.infer<typeof deviceFrameData>;

export const managerStatusData = z.object({
  state: z.enum(['online', 'offline']),
  startedAt: epochSeconds,
  version: z.string().max(64),
});
export type ManagerStatusData = z.infer<typeof managerStatusData>;

/** Topic kind → schema of the message body carried on that topic. */
export const dataSchemas = {
  deviceStatus: deviceStatusData,
  deviceConfig: deviceConfigData,
  deviceAnnouncement: announcementData,
  deviceFrame: deviceFrameData,
  stopArrivals: arrivalsData,
  stopSchedule: scheduleData,
  stopAnnouncement: announcementData,
  managerStatus: managerStatusData,
} as const satisfies Record<TopicKind, z.ZodType>;

export type DataOf<K extends TopicKind> = z.output<(typeof dataSchemas)[K]>;
export type DataInputOf<K extends TopicKind> = z.input<(typeof dataSchemas)[K]>;

/** Largest payload accepted per topic kind, checked before parsing. */
export const maxPayloadBytes: Record<TopicKind, number> = {
  deviceStatus: 8 * 1024,
  deviceConfig: 8 * 1024,
  deviceAnnouncement: 8 * 1024,
  deviceFrame: 128 * 1024,
  stopArrivals: 64 * 1024,
  stopSchedule: 1024 * 1024,
  stopAnnouncement: 8 * 1024,
  managerStatus: 4 * 1024,
};

/** Every message travels in this envelope. */
export interface Envelope<T> {
  v: typeof PROTOCOL_VERSION;
  /** Unique per message; lets receivers drop duplicates and logs correlate. */
  id: string;
  /** Epoch milliseconds at the sender. */
  sentAt: number;
  data: T;
}

export const envelopeHeader = z.object({
  v: z.number(),
  id: z.string().min(1).max(64),
  sentAt: z.number().int().nonnegative(),
  data: z.unknown(),
});
