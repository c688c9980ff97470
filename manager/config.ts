/**
 * The manager's configuration: the one place that reads the environment.
 * The broker and database are switched here, not in code: "embedded" runs
 * aedes in-process on a laptop; "external" points at a clustered broker.
 */
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { z } from 'zod';
import { DEFAULT_BROKER_LIMITS as broker, type BrokerLimits } from './broker/brokerLimits';
import { DEFAULT_IMPORT_LIMITS as limits, type ImportLimits } from './gtfs/importLimits';
import { parseClockStart } from '../shared';

const port = z.coerce.number().int().min(0).max(65535);
const positive = (fallback: number) => z.coerce.number().int().min(1).default(fallback);
const onOff = z.union([
  z.boolean(),
  z
    .enum(['on', 'off', 'true', 'false', '1', '0'])
    .transform((v) => ['on', 'true', '1'].includes(v)),
]);

export const managerConfigSchema = z
  .object({
    httpHost: z.string().min(1).default('127.0.0.1'),
    httpPort: port.default(8080),
    brokerMode: z.enum(['embedded', 'external']).default('embedded'),
    /** Where the embedded broker listens. */
    brokerHost: z.string().min(1).default('127.0.0.1'),
    brokerPort: port.default(1883),
    /** Broker the manager connects to in external mode, e.g. mqtt://broker.internal:1883. */
    brokerUrl: z.string().url().optional(),
    dataDir: z.string().min(1).default('var/manager'),
    /**
     * The shared store: absent means one SQLite file in dataDir (a single
     * manager); postgres://user:pass@host/db puts fleet state on PostgreSQL,
     * which several managers can share.
     */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /** How often a manager looks for a feed another manager imported into the shared store. */
    feedPollSeconds: z.coerce.number().int().min(1).max(3600).default(30),
    /**
     * Managers sharing one external broker: the group they form (one shared
     * subscription, one membership), this manager's name in it, and how long a
     * manager may stay silent before the others take over its share.
     */
    managerGroup: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -')
      .default('stopsign'),
    managerId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 of A-Z a-z 0-9 . _ -')
      .default(
        () =>
          `${os
            .hostname()
            .replace(/[^A-Za-z0-9._-]/g, '-')
            .slice(0, 50)}-${process.pid}`,
      ),
    memberLeaseSeconds: z.coerce.number().int().min(1).max(600).default(15),
    /** A GTFS zip imported at start when the store holds no schedule yet. */
    gtfsPath: z.string().min(1).optional(),
    publishIntervalSeconds: z.coerce.number().int().min(1).max(3600).default(30),
    /** How many upcoming departures an arrivals message carries. */
    arrivalsPerStop: z.coerce.number().int().min(1).max(50).default(8),
    /** How far ahead an arrivals message looks. */
    arrivalsWindowMinutes: z.coerce
      .number()
      .int()
      .min(10)
      .max(24 * 60)
      .default(180),
    /** Length of the schedule slice a sign keeps for offline use. */
    scheduleHorizonHours: z.coerce.number().int().min(1).max(72).default(30),
    /** A sign not heard from for this long is shown as offline even without its last will. */
    offlineAfterSeconds: z.coerce.number().int().min(10).default(180),
    version: z.string().default('0.1.0'),
    /** Host names the HTTP API answers to (DNS rebinding); the listen host and localhost by default. */
    httpAllowedHosts: z
      .string()
      .transform((list) =>
        list
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      )
      .optional(),
    gtfsMaxUploadBytes: positive(limits.maxUploadBytes),
    gtfsMaxEntries: positive(limits.maxEntries),
    gtfsMaxFileBytes: positive(limits.maxFileBytes),
    gtfsMaxTotalBytes: positive(limits.maxTotalBytes),
    gtfsMaxCompressionRatio: positive(limits.maxCompressionRatio),
    gtfsMaxStopTimes: positive(limits.maxStopTimesRows),
    gtfsMaxRows: positive(limits.maxRowsPerFile),
    gtfsMaxImportSeconds: positive(limits.maxImportSeconds),
    gtfsImportHeapMb: z.coerce.number().int().min(16).default(limits.importHeapMb),
    /** Retained state that drifted from what the manager published is corrected within this. */
    reconcileSeconds: z.coerce.number().int().min(1).max(3600).default(10),
    mqttMaxPacketBytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(broker.maxPacketBytes),
    mqttMaxConnections: positive(broker.maxConnections),
    mqttMaxRetainedPerClient: positive(broker.maxRetainedPerClient),
    mqttMaxSubscriptionsPerClient: positive(broker.maxSubscriptionsPerClient),
    /** Agency id of the feed, naming the signs' abbreviation table (panels/abbreviations/). */
    agency: z.string().max(64).optional(),
    /** Panel profiles the fleet may use (one JSON file each). */
    panelProfilesDir: z
      .string()
      .min(1)
      .default(fileURLToPath(new URL('../panels/profiles', import.meta.url))),
    /** HTTPS with the manager's certificate; off only behind a proxy that terminates TLS. */
    httpTls: onOff.default(true),
    /** MQTT over TLS on the embedded broker. */
    brokerTls: onOff.default(true),
    /** The name or address signs and browsers reach this manager by (certificate, claims). */
    publicHost: z.string().min(1).optional(),
    /** The manager's URL as signs see it, when a proxy stands in front (https://...). */
    publicUrl: z
      .string()
      .regex(/^https:\/\/\S+$/, 'must be an https:// URL')
      .optional(),
    /** The broker URL claimed signs are given (mqtts://...); defaults to the embedded broker. */
    signBrokerUrl: z
      .string()
      .regex(/^mqtts:\/\/\S+$/, 'must be an mqtts:// URL')
      .optional(),
    /** Certificates of your own (PEM files); without them the manager makes its own CA. */
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    tlsCaFile: z.string().min(1).optional(),
    /** External broker: the manager's account, and the CA its certificate chains to. */
    brokerUsername: z.string().min(1).optional(),
    brokerPassword: z.string().min(1).optional(),
    brokerCaFile: z.string().min(1).optional(),
    /** How the external broker's access control is driven: its dynsec plugin, or left to you. */
    brokerAccess: z.enum(['mosquitto-dynsec', 'none']).default('mosquitto-dynsec'),
    /**
     * A read-only account on the embedded broker for monitoring (observer:<name> as username and
     * client id, this password): may subscribe to every protocol topic, publish none. Unset: none.
     */
    brokerObserverPassword: z.string().min(16).optional(),
    /** How long a claim code stays usable. */
    claimTtlHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(72),
    /** A console session ends after this long without a request. */
    sessionIdleHours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(12),
    /** log2 of scrypt's N for operator passwords: 17 is OWASP's floor; tests use less. */
    scryptCost: z.coerce.number().int().min(10).max(20).default(17),
    /** Failed logins per account (and four times that per address) in 15 minutes before a wait. */
    loginMaxFailures: z.coerce.number().int().min(1).max(100).default(5),
    /** Public keys uploaded bundles must be signed with: the file signs are provisioned with. */
    bundleTrustedKeysFile: z.string().min(1).optional(),
    /** How often rollouts are re-planned (deadlines, windows, stage advances). */
    rolloutTickSeconds: z.coerce.number().min(0.1).max(3600).default(10),
    /** Run on a clock that starts at this instant (ISO-8601), to replay recorded feeds. */
    clockStart: z
      .string()
      .transform((text, ctx) => {
        const ms = parseClockStart(text);
        if (typeof ms === 'string') {
          ctx.addIssue({ code: 'custom', message: ms });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    /** GTFS-realtime feeds to poll: one per kind, or one combined feed. */
    realtimeTripUpdatesUrl: z.string().url().optional(),
    realtimeVehiclePositionsUrl: z.string().url().optional(),
    realtimeAlertsUrl: z.string().url().optional(),
    realtimeUrl: z.string().url().optional(),
    /** Extra request headers for the feeds, as a JSON object, e.g. {"x-api-key":"..."}. */
    realtimeHeaders: z
      .string()
      .transform((text, ctx) => {
        try {
          const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(text));
          if (parsed.success) return parsed.data;
        } catch {
          // reported below
        }
        ctx.addIssue({
          code: 'custom',
          message: 'expected a JSON object of header names to strings',
        });
        return z.NEVER;
      })
      .default({}),
    realtimePollSeconds: z.coerce.number().int().min(1).max(3600).default(20),
    realtimeTimeoutSeconds: z.coerce.number().int().min(1).max(120).default(10),
    realtimeMaxBackoffSeconds: z.coerce.number().int().min(5).max(3600).default(300),
    /** A feed whose header is older than this is stale: its predictions are not live. */
    realtimeStaleSeconds: z.coerce.number().int().min(10).max(3600).default(90),
  })
  .refine((c) => c.brokerMode === 'embedded' || c.brokerUrl !== undefined, {
    message: 'brokerUrl (STOPSIGN_BROKER_URL) is required when brokerMode is external',
    path: ['brokerUrl'],
  })
  .refine((c) => c.brokerMode === 'embedded' || (c.brokerUsername && c.brokerPassword), {
    message:
      "an external broker needs the manager's account: STOPSIGN_BROKER_USERNAME and _PASSWORD",
    path: ['brokerUsername'],
  })
  .refine(
    (c) => c.brokerMode === 'embedded' || c.signBrokerUrl || c.brokerUrl?.startsWith('mqtts://'),
    {
      message:
        'signs talk to the broker over TLS: give an mqtts:// STOPSIGN_BROKER_URL or STOPSIGN_SIGN_BROKER_URL',
      path: ['signBrokerUrl'],
    },
  )
  .refine((c) => c.brokerMode === 'external' || c.brokerTls || c.signBrokerUrl, {
    message:
      'without TLS on the embedded broker, say where signs reach it over TLS: STOPSIGN_SIGN_BROKER_URL',
    path: ['signBrokerUrl'],
  })
  .refine((c) => (c.tlsCertFile === undefined) === (c.tlsKeyFile === undefined), {
    message: 'give both STOPSIGN_TLS_CERT_FILE and STOPSIGN_TLS_KEY_FILE, or neither',
    path: ['tlsCertFile'],
  });

export type ManagerConfig = z.output<typeof managerConfigSchema>;
export type ManagerConfigInput = z.input<typeof managerConfigSchema>;

const envNames: Record<string, string> = {
  httpHost: 'STOPSIGN_HTTP_HOST',
  httpPort: 'STOPSIGN_HTTP_PORT',
  brokerMode: 'STOPSIGN_BROKER_MODE',
  brokerHost: 'STOPSIGN_BROKER_HOST',
  brokerPort: 'STOPSIGN_BROKER_PORT',
  brokerUrl: 'STOPSIGN_BROKER_URL',
  dataDir: 'STOPSIGN_MANAGER_DATA_DIR',
  databaseUrl: 'STOPSIGN_DATABASE_URL',
  feedPollSeconds: 'STOPSIGN_FEED_POLL_SECONDS',
  managerGroup: 'STOPSIGN_MANAGER_GROUP',
  managerId: 'STOPSIGN_MANAGER_ID',
  memberLeaseSeconds: 'STOPSIGN_MEMBER_LEASE_SECONDS',
  gtfsPath: 'STOPSIGN_GTFS_PATH',
  publishIntervalSeconds: 'STOPSIGN_PUBLISH_INTERVAL_SECONDS',
  arrivalsPerStop: 'STOPSIGN_ARRIVALS_PER_STOP',
  arrivalsWindowMinutes: 'STOPSIGN_ARRIVALS_WINDOW_MINUTES',
  scheduleHorizonHours: 'STOPSIGN_SCHEDULE_HORIZON_HOURS',
  offlineAfterSeconds: 'STOPSIGN_OFFLINE_AFTER_SECONDS',
  httpAllowedHosts: 'STOPSIGN_HTTP_ALLOWED_HOSTS',
  gtfsMaxUploadBytes: 'STOPSIGN_GTFS_MAX_UPLOAD_BYTES',
  gtfsMaxEntries: 'STOPSIGN_GTFS_MAX_ENTRIES',
  gtfsMaxFileBytes: 'STOPSIGN_GTFS_MAX_FILE_BYTES',
  gtfsMaxTotalBytes: 'STOPSIGN_GTFS_MAX_TOTAL_BYTES',
  gtfsMaxCompressionRatio: 'STOPSIGN_GTFS_MAX_COMPRESSION_RATIO',
  gtfsMaxStopTimes: 'STOPSIGN_GTFS_MAX_STOP_TIMES',
  gtfsMaxRows: 'STOPSIGN_GTFS_MAX_ROWS',
  gtfsMaxImportSeconds: 'STOPSIGN_GTFS_MAX_IMPORT_SECONDS',
  gtfsImportHeapMb: 'STOPSIGN_GTFS_IMPORT_HEAP_MB',
  reconcileSeconds: 'STOPSIGN_RECONCILE_SECONDS',
  mqttMaxPacketBytes: 'STOPSIGN_MQTT_MAX_PACKET_BYTES',
  mqttMaxConnections: 'STOPSIGN_MQTT_MAX_CONNECTIONS',
  mqttMaxRetainedPerClient: 'STOPSIGN_MQTT_MAX_RETAINED_PER_CLIENT',
  mqttMaxSubscriptionsPerClient: 'STOPSIGN_MQTT_MAX_SUBSCRIPTIONS_PER_CLIENT',
  panelProfilesDir: 'STOPSIGN_PANEL_PROFILES_DIR',
  agency: 'STOPSIGN_AGENCY',
  httpTls: 'STOPSIGN_HTTP_TLS',
  brokerTls: 'STOPSIGN_BROKER_TLS',
  publicHost: 'STOPSIGN_PUBLIC_HOST',
  publicUrl: 'STOPSIGN_PUBLIC_URL',
  signBrokerUrl: 'STOPSIGN_SIGN_BROKER_URL',
  tlsCertFile: 'STOPSIGN_TLS_CERT_FILE',
  tlsKeyFile: 'STOPSIGN_TLS_KEY_FILE',
  tlsCaFile: 'STOPSIGN_TLS_CA_FILE',
  brokerUsername: 'STOPSIGN_BROKER_USERNAME',
  brokerPassword: 'STOPSIGN_BROKER_PASSWORD',
  brokerCaFile: 'STOPSIGN_BROKER_CA_FILE',
  brokerAccess: 'STOPSIGN_BROKER_ACCESS',
  brokerObserverPassword: 'STOPSIGN_BROKER_OBSERVER_PASSWORD',
  claimTtlHours: 'STOPSIGN_CLAIM_TTL_HOURS',
  sessionIdleHours: 'STOPSIGN_SESSION_IDLE_HOURS',
  scryptCost: 'STOPSIGN_SCRYPT_COST',
  loginMaxFailures: 'STOPSIGN_LOGIN_MAX_FAILURES',
  bundleTrustedKeysFile: 'STOPSIGN_BUNDLE_TRUSTED_KEYS',
  rolloutTickSeconds: 'STOPSIGN_ROLLOUT_TICK_SECONDS',
  clockStart: 'STOPSIGN_CLOCK_START',
  realtimeTripUpdatesUrl: 'STOPSIGN_REALTIME_TRIP_UPDATES_URL',
  realtimeVehiclePositionsUrl: 'STOPSIGN_REALTIME_VEHICLE_POSITIONS_URL',
  realtimeAlertsUrl: 'STOPSIGN_REALTIME_ALERTS_URL',
  realtimeUrl: 'STOPSIGN_REALTIME_URL',
  realtimeHeaders: 'STOPSIGN_REALTIME_HEADERS',
  realtimePollSeconds: 'STOPSIGN_REALTIME_POLL_SECONDS',
  realtimeTimeoutSeconds: 'STOPSIGN_REALTIME_TIMEOUT_SECONDS',
  realtimeMaxBackoffSeconds: 'STOPSIGN_REALTIME_MAX_BACKOFF_SECONDS',
  realtimeStaleSeconds: 'STOPSIGN_REALTIME_STALE_SECONDS',
};

export class ConfigError extends Error {}

/** Reads STOPSIGN_* variables, applies overrides, and reports every problem at once. */
export function loadManagerConfig(
  env: NodeJS.ProcessEnv,
  overrides: ManagerConfigInput = {},
): ManagerConfig {
  const fromEnv: Record<string, string> = {};
  for (const [key, name] of Object.entries(envNames)) {
    const value = env[name];
    if (value !== undefined && value !== '') fromEnv[key] = value;
  }
  const result = managerConfigSchema.safeParse({ ...fromEnv, ...overrides });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const name = envNames[key];
      return `  ${key}${name ? ` (${name})` : ''}: ${issue.message}`;
    });
    throw new ConfigError(`invalid manager configuration:\n${problems.join('\n')}`);
  }
  return result.data;
}

/** The import limits the configuration sets. */
export function importLimitsOf(config: ManagerConfig): ImportLimits {
  return {
    maxUploadBytes: config.gtfsMaxUploadBytes,
    maxEntries: config.gtfsMaxEntries,
    maxFileBytes: config.gtfsMaxFileBytes,
    maxTotalBytes: config.gtfsMaxTotalBytes,
    maxCompressionRatio: config.gtfsMaxCompressionRatio,
    maxStopTimesRows: config.gtfsMaxStopTimes,
    maxRowsPerFile: config.gtfsMaxRows,
    maxImportSeconds: config.gtfsMaxImportSeconds,
    importHeapMb: config.gtfsImportHeapMb,
  };
}

/** What one MQTT client may cost the embedded broker. */
export function brokerLimitsOf(config: ManagerConfig): BrokerLimits {
  return {
    maxPacketBytes: config.mqttMaxPacketBytes,
    maxConnections: config.mqttMaxConnections,
    maxRetainedPerClient: config.mqttMaxRetainedPerClient,
    maxSubscriptionsPerClient: config.mqttMaxSubscriptionsPerClient,
  };
}
