/**
 * Message schemas of the protocol (version in PROTOCOL_VERSION). Each gives both the static type (z.infer) and
 * the runtime check used at every MQTT boundary. Unknown fields are stripped, so
 * a newer peer may add optional fields without breaking an older one; anything
 * that changes meaning bumps PROTOCOL_VERSION instead.
 */
import { z } from 'zod';
import { panelProfileId } from './panelProfile';
import type { TopicKind } from './topics';
import { textProblem } from './text';
import { DEVICE_ID_PATTERN } from './topics';
import { updateDataSchemas, updateMaxPayloadBytes } from './update';

/**
 * 2: arrivals carry their source (live, scheduled, cancelled), prediction time,
 * delay, vehicle distance and crowding; the manager heartbeat and per-stop agency
 * alerts are new.
 */
export const PROTOCOL_VERSION = 2;

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

/**
 * Where a row's time comes from. live: a prediction from the agency's realtime
 * feed; scheduled: the timetable (no live data for this trip, or the feed is
 * stale); cancelled: the agency cancelled the trip, time is the scheduled one.
 */
export const arrivalSource = z.enum(['live', 'scheduled', 'cancelled']);
export type ArrivalSource = z.infer<typeof arrivalSource>;

/** GTFS-realtime occupancy_status folded into what a passenger can act on. */
export const crowdingLevel = z.enum(['seats', 'standing', 'full']);
export type CrowdingLevel = z.infer<typeof crowdingLevel>;

export const arrival = z.object({
  tripId: z.string().max(128),
  routeId: z.string().max(128),
  /** What the passenger reads as the route: GTFS route_short_name, else long name. */
  route: signText(32),
  headsign: localizedText,
  /** Predicted departure when live, else the scheduled one; epoch seconds. */
  time: epochSeconds,
  scheduledTime: epochSeconds,
  source: arrivalSource,
  /** When the prediction was made (TripUpdate timestamp, else the feed's); live rows only. */
  predictedAt: epochSeconds.optional(),
  /** Seconds late (negative: early) against the timetable; live rows only. */
  delay: z.number().int().min(-86_400).max(86_400).optional(),
  /** Stops between the vehicle and this stop, from VehiclePositions. */
  stopsAway: z.number().int().min(0).max(500).optional(),
  /** The vehicle is stopped at this stop now. */
  atStop: z.boolean().optional(),
  crowding: crowdingLevel.optional(),
});
export type Arrival = z.infer<typeof arrival>;

export const arrivalsData = z.object({
  stopId,
  generatedAt: epochSeconds,
  /** Header time of the realtime feed these rows were computed from; absent without a feed. */
  feedTimestamp: epochSeconds.optional(),
  arrivals: z.array(arrival).max(50),
});
export type ArrivalsData = z.infer<typeof arrivalsData>;

export const scheduledDeparture = arrival.pick({
  tripId: true,
  routeId: true,
  route: true,
  headsign: true,
  time: true,
});
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

/** What a speaking sign says instead of the text, per language (e.g. spelled-out abbreviations). */
export const spokenText = z.object({ en: shortText.optional(), zh: shortText.optional() });
export type SpokenText = z.infer<typeof spokenText>;

export const announcementData = z.object({
  announcementId: z.string().min(1).max(64),
  text: localizedText,
  tts: spokenText.optional(),
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
  /** The glass the manager believes this sign has; the sign warns when its own differs. */
  panelProfile: panelProfileId.optional(),
  /** False when the imported timetable no longer has this stop: the sign says so. */
  stopInFeed: z.boolean().default(true),
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
  /** Spoken board volume, percent, in the day and in the brightness schedule's night. */
  volume: z
    .object({ day: z.number().int().min(0).max(100), night: z.number().int().min(0).max(100) })
    .default({ day: 70, night: 35 }),
  /** Agency whose abbreviation table shortens names that do not fit. */
  agency: z.string().max(64).optional(),
  /** Script of the sign's own Chinese words; feed text is shown as the feed gives it. */
  chineseScript: z.enum(['simplified', 'traditional']).default('simplified'),
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
  /** The panel profile the sign runs. */
  panelProfile: panelProfileId.optional(),
  /** Cabinet door switch, when the sign has one: an open door is an alarm for the operator. */
  cabinet: z.object({ doorOpen: z.boolean(), changedAt: epochSeconds }).optional(),
  /** Rejected inbound messages by "<topic kind>:<reason>". */
  rejected: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Whether the sign trusts its clock enough to count down; why not when it does not. */
  clock: z
    .object({
      synced: z.boolean(),
      reason: z.string().max(200).optional(),
    })
    .optional(),
  /** False when the manager says the timetable no longer has the sign's stop. */
  stopInFeed: z.boolean().optional(),
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

/**
 * Sent by the manager every poll, not retained, QoS 0: tells signs the manager is
 * alive and how old the realtime feed behind their boards is, so an unchanged
 * board is not taken for a stale one, nor a stale feed for an unchanged board.
 * Being never queued nor retained, its sentAt also lets a sign check its clock.
 */
export const managerHeartbeatData = z.object({
  checkedAt: epochSeconds,
  /** Header time of the newest usable realtime feed; absent when there is none. */
  feedTimestamp: epochSeconds.optional(),
  /** Whether the manager currently publishes live predictions. */
  live: z.boolean(),
});
export type ManagerHeartbeatData = z.infer<typeof managerHeartbeatData>;

const longText = signText(1000);

/** An alert from the agency's GTFS-realtime ServiceAlerts feed, as it affects one stop. */
export const agencyAlert = z.object({
  alertId: z.string().min(1).max(128),
  /** Always 'agency': an operator's announcement travels on the announcement topics. */
  source: z.literal('agency'),
  header: localizedText,
  description: z.object({ en: longText, zh: longText.optional() }).optional(),
  /** Route names (short names) the alert is about at this stop; empty means the whole stop. */
  routes: z.array(signText(32)).max(50),
  effect: z.string().max(40).optional(),
  activeUntil: epochSeconds.optional(),
});
export type AgencyAlert = z.infer<typeof agencyAlert>;

export const stopAlertsData = z.object({
  stopId,
  generatedAt: epochSeconds,
  alerts: z.array(agencyAlert).max(10),
});
export type StopAlertsData = z.infer<typeof stopAlertsData>;

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
  managerHeartbeat: managerHeartbeatData,
  stopAlerts: stopAlertsData,
  cityAnnouncement: announcementData,
  ...updateDataSchemas,
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
  managerHeartbeat: 1024,
  stopAlerts: 32 * 1024,
  cityAnnouncement: 8 * 1024,
  ...updateMaxPayloadBytes,
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
