/**
 * The sign's settings, read from the environment in this one place and
 * validated together, so a misconfigured sign names every problem at once.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadPanelProfile } from '../panels/catalog';
import { DEVICE_ID_PATTERN, parseClockStart } from '../shared';
import { DEFAULT_AUDIO_COMMAND, DEFAULT_TTS_COMMAND } from './speech/speaker';
import {
  DEFAULT_PANEL_PROFILE,
  PANEL_PROFILE_ID_PATTERN,
  PanelProfileError,
  type PanelProfile,
} from '../shared/panelProfile';
import { readCredentials } from './provision/credentialsFile';

export interface DeviceConfig {
  deviceId: string;
  brokerUrl: string;
  dataDir: string;
  /** SQLite file holding the offline cache. */
  dbPath: string;
  /** Where the sign reports its health for the update agent (STOPSIGN_HEALTH_FILE). */
  healthFile: string;
  /** Which glass this sign drives: a file in panelProfilesDir. */
  panelProfile: string;
  panelProfilesDir: string;
  /** The loaded profile: size, colours, fonts, layout, refresh policy, driver and wiring. */
  profile: PanelProfile;
  /** Serial line of an LED panel: STOPSIGN_SERIAL_PATH, else the profile's. */
  serialPath: string;
  baudRate: number;
  /** The profile's size, for code that only needs that. */
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
  /** Text-to-speech command writing WAV to stdout; placeholders {voice} {rate} {amplitude} {text}. */
  ttsCommand: string;
  /** Audio player reading WAV on stdin. */
  audioCommand: string;
  /** Development only: simulate an e-paper controller in-process and draw its paper here. */
  einkSimulatorPng?: string;
  /** The claim a factory-fresh sign trades for its credentials (the installer's QR code). */
  claim?: string | undefined;
  /** The sign's broker account and the CA it pins, from its provisioned credentials. */
  mqttUsername?: string | undefined;
  mqttPassword?: string | undefined;
  brokerCaPem?: string | undefined;
}

/** Values that bypass the environment, e.g. for tests and simulations. */
export type DeviceConfigOverrides = Partial<
  Omit<DeviceConfig, 'dbPath' | 'healthFile' | 'profile' | 'panelWidth' | 'panelHeight'>
> & {
  healthFile?: string;
};

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
  panelProfile: 'STOPSIGN_PANEL_PROFILE',
  panelProfilesDir: 'STOPSIGN_PANEL_PROFILES_DIR',
  serialPath: 'STOPSIGN_SERIAL_PATH',
  baudRate: 'STOPSIGN_BAUD_RATE',
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
  healthFile: 'STOPSIGN_HEALTH_FILE',
  ttsCommand: 'STOPSIGN_TTS_COMMAND',
  audioCommand: 'STOPSIGN_AUDIO_COMMAND',
  einkSimulatorPng: 'STOPSIGN_EINK_SIMULATOR_PNG',
  claim: 'STOPSIGN_CLAIM',
} as const satisfies Partial<Record<keyof DeviceConfigOverrides, string>>;

/** Shipped profiles; resolves the same from device/ and from the bundle in dist/. */
const SHIPPED_PROFILES_DIR = fileURLToPath(new URL('../panels/profiles', import.meta.url));

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
    panelProfile: z
      .string()
      .regex(PANEL_PROFILE_ID_PATTERN, 'expected a profile id (a-z 0-9 -)')
      .default(DEFAULT_PANEL_PROFILE),
    panelProfilesDir: z.string().min(1).default(SHIPPED_PROFILES_DIR),
    serialPath: z.string().min(1).optional(),
    baudRate: count(1200, 4_000_000).optional(),
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
    healthFile: z.string().min(1).optional(),
    ttsCommand: z
      .string()
      .min(1)
      .refine((c) => c.includes('{text}'), 'the command must take {text}')
      .default(DEFAULT_TTS_COMMAND),
    audioCommand: z.string().min(1).default(DEFAULT_AUDIO_COMMAND),
    einkSimulatorPng: z.string().min(1).optional(),
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
  problems.push(
    ...(parsed.error?.issues ?? []).map((issue) => {
      const key = String(issue.path[0] ?? '');
      const name = key in ENV_NAMES ? ENV_NAMES[key as keyof typeof ENV_NAMES] : key;
      return `${name}: ${issue.message}`;
    }),
  );
  // The profile is read even when other settings are wrong, so its problems come in the same report.
  const profileId = typeof raw.panelProfile === 'string' ? raw.panelProfile : DEFAULT_PANEL_PROFILE;
  const profilesDir =
    typeof raw.panelProfilesDir === 'string' ? raw.panelProfilesDir : SHIPPED_PROFILES_DIR;
  let profile: PanelProfile | undefined;
  if (PANEL_PROFILE_ID_PATTERN.test(profileId)) {
    try {
      profile = loadPanelProfile(profileId, profilesDir);
    } catch (err) {
      if (!(err instanceof PanelProfileError)) throw err;
      problems.push(...err.problems.map((p) => `${ENV_NAMES.panelProfile} ${profileId}: ${p}`));
    }
  }
  const driver = profile?.driver;
  const serialPath =
    parsed.data?.serialPath ?? (driver?.type === 'led-serial' ? driver.serialPath : '');
  if (!parsed.success || !profile || problems.length > 0) throw new DeviceConfigError(problems);
  return {
    ...parsed.data,
    profile,
    serialPath,
    baudRate: parsed.data.baudRate ?? (driver?.type === 'led-serial' ? driver.baudRate : 921_600),
    panelWidth: profile.width,
    panelHeight: profile.height,
    dbPath: path.join(parsed.data.dataDir, 'sign.db'),
    healthFile: parsed.data.healthFile ?? path.join(parsed.data.dataDir, 'health.json'),
  };
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
