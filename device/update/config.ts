/**
 * The update agent's settings, read from the environment in this one place
 * (the agent is its own program) and validated together.
 */
import { z } from 'zod';
import { DEVICE_ID_PATTERN, hardwareId, updateAgentUsername } from '../../shared';
import { readCredentials } from '../provision/credentialsFile';

const count = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const required = {
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'required' : undefined),
};

const schema = z
  .object({
    deviceId: z.string(required).regex(DEVICE_ID_PATTERN, 'expected 1-64 of A-Z a-z 0-9 . _ -'),
    brokerUrl: z
      .string(required)
      .refine((v) => /^mqtts?:\/\/[^/]+/.test(v), 'expected mqtt://host:port or mqtts://host:port'),
    /** The sign's data folder: a provisioned sign's credentials.json is there. */
    dataDir: z.string().min(1).default('/var/lib/stopsign'),
    /** The board this sign is; a bundle must list it. */
    hardware: hardwareId,
    /** Install root holding slots/a, slots/b and the current and committed links. */
    root: z.string().min(1).default('/opt/stopsign'),
    stateDir: z.string().min(1).default('/var/lib/stopsign-update'),
    /** Keys the sign was provisioned with; later changes live in the state dir. */
    trustedKeysFile: z.string().min(1).default('/etc/stopsign/trusted-keys.json'),
    /** Written by the sign; the agent reads it to judge a slot on trial. */
    healthFile: z.string().min(1).default('/run/stopsign/health.json'),
    /** Restarts the sign so it starts from the "current" slot. */
    restartCommand: z.string().min(1).default('systemctl restart stopsign-sign.service'),
    /** Download cap in bytes per second; 0 for none. Signs share metered mobile links. */
    maxBytesPerSecond: count(0, 1_000_000_000).default(256 * 1024),
    /** Bytes one update may fetch over the network, as a multiple of the bundle size. */
    dataBudgetFactor: z.coerce.number().min(1).max(10).default(2),
    maxAttempts: count(1, 20).default(5),
    retryMinMs: count(10, 3_600_000).default(5_000),
    retryMaxMs: count(10, 86_400_000).default(600_000),
    /** How long a new slot has to prove itself healthy. */
    trialSeconds: count(5, 3600).default(180),
    /** Starts a new slot gets before the boot guard falls back. */
    bootTries: count(1, 10).default(3),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    /** Pause between the steps of a state; only fault-injection tests set it. */
    stepPauseMs: count(0, 60_000).default(0),
  })
  .refine((c) => c.retryMinMs <= c.retryMaxMs, {
    message: 'retry minimum must not exceed the maximum',
    path: ['retryMinMs'],
  });

type UpdateSettings = z.output<typeof schema>;

export type UpdateConfig = UpdateSettings & {
  /**
   * From the sign's credentials: the agent signs in as update:<deviceId> with the sign's secret
   * (its own session, the update topics only). Unset on a sign that was never provisioned.
   */
  broker?: { username: string; password: string; caPem: string };
  /** The manager's CA: bundles are fetched over HTTPS trusting it alone. */
  managerCaPem?: string;
};
export type UpdateConfigInput = z.input<typeof schema>;

export const UPDATE_ENV_NAMES = {
  deviceId: 'STOPSIGN_DEVICE_ID',
  brokerUrl: 'STOPSIGN_BROKER_URL',
  dataDir: 'STOPSIGN_DATA_DIR',
  hardware: 'STOPSIGN_HARDWARE',
  root: 'STOPSIGN_UPDATE_ROOT',
  stateDir: 'STOPSIGN_UPDATE_STATE_DIR',
  trustedKeysFile: 'STOPSIGN_UPDATE_TRUSTED_KEYS',
  healthFile: 'STOPSIGN_HEALTH_FILE',
  restartCommand: 'STOPSIGN_UPDATE_RESTART_COMMAND',
  maxBytesPerSecond: 'STOPSIGN_UPDATE_MAX_BYTES_PER_SECOND',
  dataBudgetFactor: 'STOPSIGN_UPDATE_DATA_BUDGET_FACTOR',
  maxAttempts: 'STOPSIGN_UPDATE_MAX_ATTEMPTS',
  retryMinMs: 'STOPSIGN_UPDATE_RETRY_MIN_MS',
  retryMaxMs: 'STOPSIGN_UPDATE_RETRY_MAX_MS',
  trialSeconds: 'STOPSIGN_UPDATE_TRIAL_SECONDS',
  bootTries: 'STOPSIGN_UPDATE_BOOT_TRIES',
  logLevel: 'STOPSIGN_LOG_LEVEL',
  stepPauseMs: 'STOPSIGN_UPDATE_STEP_PAUSE_MS',
} as const satisfies Record<keyof UpdateSettings, string>;

export class UpdateConfigError extends Error {}

/** Throws UpdateConfigError listing every problem found. */
export function loadUpdateConfig(
  env: NodeJS.ProcessEnv,
  overrides: Partial<UpdateConfigInput> = {},
): UpdateConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(UPDATE_ENV_NAMES)) {
    const value = env[name]?.trim();
    if (value) raw[key] = value;
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) raw[key] = value;
  }
  const problems: string[] = [];
  let credentials: ReturnType<typeof readCredentials>;
  try {
    // Who the sign is and where its broker is come from its credentials, as for the sign itself.
    credentials = readCredentials(
      typeof raw.dataDir === 'string' ? raw.dataDir : '/var/lib/stopsign',
    );
    if (credentials) {
      if (raw.deviceId !== undefined && raw.deviceId !== credentials.deviceId) {
        problems.push(
          `STOPSIGN_DEVICE_ID: ${JSON.stringify(raw.deviceId)} differs from the provisioned ${credentials.deviceId}`,
        );
      }
      raw.deviceId = credentials.deviceId;
      raw.brokerUrl ??= credentials.mqtt.url;
    }
  } catch (err) {
    problems.push(`credentials: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success || problems.length > 0) {
    problems.push(
      ...(parsed.error?.issues ?? []).map((issue) => {
        const key = String(issue.path[0] ?? '') as keyof UpdateSettings;
        return `${UPDATE_ENV_NAMES[key] ?? key}: ${issue.message}`;
      }),
    );
    throw new UpdateConfigError(
      `invalid update agent configuration:\n  - ${problems.join('\n  - ')}`,
    );
  }
  if (!credentials) return parsed.data;
  return {
    ...parsed.data,
    broker: {
      username: updateAgentUsername(credentials.deviceId),
      password: credentials.mqtt.password,
      caPem: credentials.mqtt.caPem,
    },
    managerCaPem: credentials.managerCaPem ?? credentials.mqtt.caPem,
  };
}
