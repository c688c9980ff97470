/**
 * The sign's settings, read from the environment in this one place and
 * validated together, so a misconfigured sign names every problem at once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEVICE_ID_PATTERN, parseClockStart } from '../shared';
import { readCredentials } from './provision/credentialsFile';
import { MIN_HEIGHT, MIN_WIDTH } from './render/layout';

export interface DeviceConfig {
  deviceId: string;
  brokerUrl: string;
  dataDir: string;
  /** SQLite file holding the offline cache. */
  dbPath: string;
  serialPath: string;
  baudRate: number;
  panelWidth: number;
  panelHeight: number;
  firmwareVersion: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Without word from the manager for this long, the sign shows its own timetable. */
  staleAfterSeconds: number;
  /** Live rows whose prediction is older than this are marked stale. */
  predictionStaleSeconds: number;
  /** 'manager': count down only once the clock agrees with the manager's; 'trust': always. */
  clockSync: 'manager' | 'trust';
  /** Epoch milliseconds a replay clock starts at; undefined runs on the real clock. */
  clockStart?: number;
  statusIntervalSeconds: number;
  frameUploadIntervalSeconds: number;
  /** Inbound MQTT packets past this end the connection before they are buffered. */
  mqttMaxPacketBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** The claim a factory-fresh sign trades for its credentials (the installer's QR code). */
  claim?: string | undefined;
  /** The sign's broker account and the CA it pins, from its provisioned credentials. */
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  brokerCaPem?: string | undefined;
}

/** Values that bypass the environment, e.g. for tests and simulations. */
export type DeviceConfigOverrides = Partial<Omit<DeviceConfig, 'dbPath'>>;

export class DeviceConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid sign configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DeviceConfigError';
  }
}

const ENV_NAMES = {
  deviceId: 'STOPSIGN_DEVICE_ID',
  brokerUrl: 'STOPSIGN_BROKER_URL',
  dataDir: 'STOPSIGN_DATA_DIR',
  serialPath: 'STOPSIGN_SERIAL_PATH',
  baudRate: 'STOPSIGN_BAUD_RATE',
  panelWidth: 'STOPSIGN_PANEL_WIDTH',
  panelHeight: 'STOPSIGN_PANEL_HEIGHT',
  firmwareVersion: 'STOPSIGN_FIRMWARE_VERSION',
  reconnectMinMs: 'STOPSIGN_RECONNECT_MIN_MS',
  reconnectMaxMs: 'STOPSIGN_RECONNECT_MAX_MS',
  staleAfterSeconds: 'STOPSIGN_STALE_AFTER_SECONDS',
  predictionStaleSeconds: 'STOPSIGN_PREDICTION_STALE_SECONDS',
  clockSync: 'STOPSIGN_CLOCK_SYNC',
  clockStart: 'STOPSIGN_CLOCK_START',
  statusIntervalSeconds: 'STOPSIGN_STATUS_INTERVAL_SECONDS',
  frameUploadIntervalSeconds: 'STOPSIGN_FRAME_UPLOAD_INTERVAL_SECONDS',
  mqttMaxPacketBytes: 'STOPSIGN_MQTT_MAX_PACKET_BYTES',
  logLevel: 'STOPSIGN_LOG_LEVEL',
  claim: 'STOPSIGN_CLAIM',
} as const satisfies Partial<Record<keyof DeviceConfigOverrides, string>>;

const required = {
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'required' : undefined),
};
const requiredUnlessProvisioned = {
  error: (issue: { input: unknown }) =>
    issue.input === undefined
      ? 'required, or provision the sign with its claim (STOPSIGN_CLAIM)'
      : undefined,
};
const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const brokerUrl = z.string(requiredUnlessProvisioned).refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'expected mqtt://host:port or mqtts://host:port');

const schema = z
  .object({
    deviceId: z
      .string(requiredUnlessProvisioned)
      .regex(DEVICE_ID_PATTERN, 'expected 1-64 of A-Z a-z 0-9 . _ -'),
    brokerUrl,
    dataDir: z.string().min(1).default('var/device'),
    serialPath: z.string(required).min(1),
    baudRate: count(1200, 4_000_000).default(921_600),
    panelWidth: count(MIN_WIDTH, 1024).default(192),
    panelHeight: count(MIN_HEIGHT, 1024).default(64),
    firmwareVersion: z.string().min(1).max(64),
    reconnectMinMs: count(10, 3_600_000).default(1_000),
    reconnectMaxMs: count(10, 3_600_000).default(60_000),
    staleAfterSeconds: count(5, 86_400).default(180),
    predictionStaleSeconds: count(5, 86_400).default(90),
    clockSync: z.enum(['manager', 'trust']).default('manager'),
    clockStart: z
      .union([z.number(), z.string()])
      .transform((value, ctx) => {
        if (typeof value === 'number') return value;
        const ms = parseClockStart(value);
        if (typeof ms === 'string') {
          ctx.addIssue({ code: 'custom', message: ms });
          return z.NEVER;
        }
        return ms;
      })
      .optional(),
    statusIntervalSeconds: count(1, 86_400).default(60),
    // Frames cost mobile data across a fleet: routine uploads are rare, changes that matter go at once.
    frameUploadIntervalSeconds: count(1, 86_400).default(300),
    // The largest message a sign receives is its offline schedule, at most 1 MiB.
    mqttMaxPacketBytes: count(64 * 1024, 256 * 1024 * 1024).default(2 * 1024 * 1024),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    claim: z
      .string()
      .startsWith('stopsign-claim:', 'expected the claim text (stopsign-claim:?...)')
      .optional(),
    mqttUsername: z.string().min(1).optional(),
    mqttPassword: z.string().min(1).optional(),
    brokerCaPem: z.string().optional(),
  })
  .refine((c) => c.reconnectMinMs <= c.reconnectMaxMs, {
    message: 'reconnect minimum must not exceed the maximum',
    path: ['reconnectMinMs'],
  })
  .refine((c) => c.predictionStaleSeconds <= c.staleAfterSeconds, {
    message: 'rows must be marked stale before the sign falls back to its timetable',
    path: ['predictionStaleSeconds'],
  });

function packageVersion(): string | undefined {
  try {
    const file = new URL('../package.json', import.meta.url);
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const version = z.object({ version: z.string() }).safeParse(parsed);
    return version.success ? version.data.version : undefined;
  } catch {
    return undefined;
  }
}

/** Throws DeviceConfigError listing every problem found. */
export function loadDeviceConfig(
  env: NodeJS.ProcessEnv,
  overrides: DeviceConfigOverrides = {},
): DeviceConfig {
  const raw: Record<string, unknown> = { firmwareVersion: packageVersion() };
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const value = env[name]?.trim();
    // An empty variable means "unset", not zero or "".
    if (value) raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) raw[key] = value;
  }
  const problems: string[] = [];
  try {
    // A provisioned sign knows who it is and where its broker is from its credentials.
    const credentials = readCredentials(
      typeof raw.dataDir === 'string' ? raw.dataDir : 'var/device',
    );
    if (credentials) {
      if (raw.deviceId !== undefined && raw.deviceId !== credentials.deviceId) {
        problems.push(
          `STOPSIGN_DEVICE_ID: ${JSON.stringify(raw.deviceId)} differs from the provisioned ${credentials.deviceId}`,
        );
      }
      raw.deviceId = credentials.deviceId;
      raw.brokerUrl ??= credentials.mqtt.url;
      raw.mqttUsername = credentials.mqtt.username;
      raw.mqttPassword = credentials.mqtt.password;
      raw.brokerCaPem = credentials.mqtt.caPem;
    }
  } catch (err) {
    problems.push(`credentials: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success || problems.length > 0) {
    throw new DeviceConfigError([
      ...problems,
      ...(parsed.error?.issues ?? []).map((issue) => {
        const key = String(issue.path[0] ?? '');
        const name = key in ENV_NAMES ? ENV_NAMES[key as keyof typeof ENV_NAMES] : key;
        return `${name}: ${issue.message}`;
      }),
    ]);
  }
  return { ...parsed.data, dbPath: path.join(parsed.data.dataDir, 'sign.db') };
}

/** What the sign needs before it can load the rest: where its data lives and its claim, if any. */
export function loadProvisioningConfig(env: NodeJS.ProcessEnv): {
  dataDir: string;
  claim: string | undefined;
} {
  return {
    dataDir: env[ENV_NAMES.dataDir]?.trim() || 'var/device',
    claim: env[ENV_NAMES.claim]?.trim() || undefined,
  };
}
