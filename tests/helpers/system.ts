/**
 * The whole system as test fixtures: a manager (embedded or external broker),
 * a Mosquitto broker from Debian, and a sign whose panel is the simulator on a
 * socat pty pair. Security is on everywhere: the manager gets an admin made
 * through the CLI path, and signs are provisioned the real way (a claim code,
 * traded over HTTPS for their own broker credentials).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Role } from '../../shared';
import { assembleSign } from '../../device/assembleSign';
import { loadDeviceConfig, type DeviceConfigOverrides } from '../../device/config';
import { ensureProvisioned } from '../../device/provision/provisionSign';
import type { Sign } from '../../device/sign';
import { createOperator, createToken, openAdminTools } from '../../manager/cli/adminTools';
import { ManagerApi } from '../../manager/cli/managerApi';
import {
  loadManagerConfig,
  type ManagerConfig,
  type ManagerConfigInput,
} from '../../manager/config';
import { Manager, type ManagerEndpoints } from '../../manager/manager';
import { waitFor } from './deviceFixtures';
import { tinyGtfsZip } from './gtfsFixture';
import { unusedPort } from './deviceBroker';
import { dynsecConfig } from './mosquittoDynsec';
import { startPanelRig, type PanelRig } from './panelRig';
import { testTls } from './testTls';

export const quietLogger = pino({ level: process.env.STOPSIGN_TEST_LOG ?? 'silent' });

/** Operator passwords in tests: scrypt at 2^12 instead of 2^17, or every login costs a second. */
export const TEST_SCRYPT_COST = 12;

/** Read-only monitoring on the embedded broker, for tests that watch what the manager publishes. */
export const TEST_OBSERVER_PASSWORD = 'observer password for the tests';

/** What every test manager runs with: cheap password hashing, the shared test CA, an observer account. */
export function testSecurityConfig(): ManagerConfigInput {
  const tls = testTls();
  return {
    scryptCost: TEST_SCRYPT_COST,
    tlsCertFile: tls.certFile,
    tlsKeyFile: tls.keyFile,
    tlsCaFile: tls.caFile,
    brokerObserverPassword: TEST_OBSERVER_PASSWORD,
  };
}

/** mqtt.js options for a read-only observer of everything the manager's embedded broker carries. */
export function observerMqttOptions(name: string): {
  clientId: string;
  username: string;
  password: string;
  ca: string;
  reconnectPeriod: 0;
} {
  return {
    clientId: `observer:${name}`,
    username: `observer:${name}`,
    password: TEST_OBSERVER_PASSWORD,
    ca: testTls().caPem,
    reconnectPeriod: 0,
  };
}

/** An admin's API for a manager a test built itself (made through the CLI path). */
export async function adminApiFor(
  config: ManagerConfig,
  endpoints: ManagerEndpoints,
): Promise<ManagerApi> {
  const tools = await openAdminTools(config);
  try {
    if (!(await tools.store.operators.get('test-admin'))) {
      await createOperator(tools, {
        username: 'test-admin',
        role: 'admin',
        password: 'admin password 1234',
      });
    }
    const { token } = await createToken(tools, { username: 'test-admin', name: 'tests' });
    return new ManagerApi(endpoints.httpUrl, { caPem: endpoints.caPem, token });
  } finally {
    await tools.close();
  }
}

export interface RunningManager extends ManagerEndpoints {
  manager: Manager;
  config: ManagerConfig;
  /** The API as the admin made at start (an API token). */
  api: ManagerApi;
  /** An operator of that role (made on first use, through the CLI path) and their API token. */
  tokenFor(role: Role): Promise<string>;
  stop(): Promise<void>;
}

export async function startTestManager(
  dir: string,
  overrides: ManagerConfigInput & { ownCa?: boolean } = {},
): Promise<RunningManager> {
  const gtfsPath = path.join(dir, 'tiny-gtfs.zip');
  if (!fs.existsSync(gtfsPath)) fs.writeFileSync(gtfsPath, tinyGtfsZip());
  const { ownCa, ...configOverrides } = overrides;
  const config = loadManagerConfig(
    {},
    {
      httpPort: 0,
      brokerPort: 0,
      dataDir: path.join(dir, 'manager'),
      gtfsPath,
      publishIntervalSeconds: 1,
      ...testSecurityConfig(),
      // The manager's own first-start CA instead of the shared test one.
      ...(ownCa ? { tlsCertFile: undefined, tlsKeyFile: undefined, tlsCaFile: undefined } : {}),
      ...configOverrides,
    },
  );
  const manager = new Manager(config, quietLogger.child({ side: 'manager' }));
  const endpoints = await manager.start();
  const tokens = new Map<Role, string>();
  const tokenFor = async (role: Role): Promise<string> => {
    const known = tokens.get(role);
    if (known) return known;
    const tools = await openAdminTools(config);
    try {
      const username = `test-${role}`;
      if (!(await tools.store.operators.get(username))) {
        await createOperator(tools, { username, role, password: `${role} password 1234` });
      }
      const { token } = await createToken(tools, { username, name: `${role} tests` });
      tokens.set(role, token);
      return token;
    } finally {
      await tools.close();
    }
  };
  const api = new ManagerApi(endpoints.httpUrl, {
    caPem: endpoints.caPem,
    token: await tokenFor('admin'),
  });
  return {
    ...endpoints,
    manager,
    config,
    api,
    tokenFor,
    async stop() {
      await api.close();
      await manager.stop();
    },
  };
}

/** Creates a sign through the API and returns its claim (the QR code's text). */
export async function createSign(
  manager: RunningManager,
  sign: { deviceId?: string; stopId: string; label?: string },
): Promise<string> {
  const res = await manager.api.post('/api/signs', sign);
  const body = (await res.json()) as { claim?: { claim: string } | null; error?: string };
  if (res.status !== 201 || !body.claim) {
    throw new Error(
      `creating sign ${sign.deviceId ?? ''} failed: ${res.status} ${JSON.stringify(body)}`,
    );
  }
  return body.claim.claim;
}

export interface RunningSign {
  sign: Sign;
  rig: PanelRig;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A sign with real SQLite, MQTT and serial; its panel is the simulator on a
 * pty. With `claim` it provisions itself first, as a factory-fresh sign does.
 */
export async function startTestSign(
  dir: string,
  overrides: DeviceConfigOverrides &
    ({ claim: string; deviceId?: string } | { brokerUrl: string; deviceId: string }),
): Promise<RunningSign> {
  const rig = await startPanelRig({ driver: false });
  const dataDir =
    overrides.dataDir ?? path.join(dir, `sign-${overrides.deviceId ?? 'new'}-${Date.now()}`);
  const logger = quietLogger.child({ side: 'sign' });
  if ('claim' in overrides && overrides.claim) {
    await ensureProvisioned({
      dataDir,
      claim: overrides.claim,
      logger,
      attempts: 3,
      retryMinMs: 100,
    });
  }
  const { claim: _claim, ...rest } = overrides as DeviceConfigOverrides;
  const config = loadDeviceConfig(
    {},
    {
      serialPath: rig.pair.devicePath,
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      frameUploadIntervalSeconds: 1,
      statusIntervalSeconds: 2,
      logLevel: 'silent',
      ...rest,
      dataDir,
    },
  );
  const sign = assembleSign(config, logger);
  await sign.start();
  return {
    sign,
    rig,
    dataDir,
    async stop() {
      await sign.stop();
      await rig.close();
    },
  };
}

/** The Mosquitto settings the README recommends for external mode. */
export const MOSQUITTO_LIMITS = [
  'max_packet_size 2097152',
  'max_connections 50000',
  'max_inflight_messages 20',
  'max_queued_messages 1000',
  'max_queued_bytes 16777216',
];

/**
 * Mosquitto 2 from Debian on a loopback port: MQTT over TLS with the test
 * CA's certificate, no anonymous clients, access control by the dynamic
 * security plugin with one admin account for the manager. No persistence, so
 * a restart loses retained messages (the dynsec file keeps the accounts).
 */
export class Mosquitto {
  private process: ChildProcess | undefined;
  readonly adminUser = 'stopsign-manager';
  readonly adminPassword = 'manager secret for the tests';

  private constructor(
    readonly port: number,
    private readonly confPath: string,
    readonly logPath: string,
  ) {}

  static async start(dir: string, port?: number): Promise<Mosquitto> {
    const chosen = port ?? (await unusedPort());
    const tls = testTls();
    const confPath = path.join(dir, `mosquitto-${chosen}.conf`);
    const dynsecPath = path.join(dir, `mosquitto-${chosen}-dynsec.json`);
    const logPath = path.join(dir, `mosquitto-${chosen}.log`);
    const broker = new Mosquitto(chosen, confPath, logPath);
    fs.writeFileSync(dynsecPath, dynsecConfig(broker.adminUser, broker.adminPassword), {
      mode: 0o600,
    });
    fs.writeFileSync(
      confPath,
      [
        // Run as root (the tests are) keeps reading the 0600 key and dynsec file; ignored otherwise.
        'user root',
        'per_listener_settings false',
        'allow_anonymous false',
        'persistence false',
        `log_dest file ${logPath}`,
        // Denied packets are logged at debug level: the refusals are counted from this log.
        'log_type all',
        `listener ${chosen} 127.0.0.1`,
        `cafile ${tls.caFile}`,
        `certfile ${tls.certFile}`,
        `keyfile ${tls.keyFile}`,
        'plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
        `plugin_opt_config_file ${dynsecPath}`,
        // The same bounds as the embedded broker's defaults (see README, "External broker").
        ...MOSQUITTO_LIMITS,
        '',
      ].join('\n'),
    );
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `mqtts://127.0.0.1:${this.port}`;
  }

  /** What the manager needs to drive this broker. */
  managerConfig(): ManagerConfigInput {
    return {
      brokerMode: 'external',
      brokerUrl: this.url,
      brokerUsername: this.adminUser,
      brokerPassword: this.adminPassword,
      brokerCaFile: testTls().caFile,
    };
  }

  /** Lines of Mosquitto's log that record a refusal (denied packets, refused connections). */
  refusals(): string[] {
    const log = fs.existsSync(this.logPath) ? fs.readFileSync(this.logPath, 'utf8') : '';
    return log
      .split('\n')
      .filter((l) => /Denied|not authori[sz]ed|disconnected, not authorised/i.test(l));
  }

  async restart(): Promise<void> {
    if (this.process) return;
    const child = spawn('mosquitto', ['-c', this.confPath], { stdio: 'ignore' });
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (err) =>
        reject(new Error(`mosquitto could not start (${err.message}): apt-get install mosquitto`)),
      );
    });
    this.process = child;
    await Promise.race([waitForPort(this.port, 5000), failed]);
  }

  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const listening = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  return waitFor(`a listener on port ${port}`, listening, timeoutMs, 50);
}

export interface RunningSystem {
  dir: string;
  manager: RunningManager;
  sign: RunningSign;
  stop(): Promise<void>;
}

/**
 * A manager with one sign created at `stopId`, provisioned by its claim and
 * running, its panel the simulator. With `mosquitto` both talk through that
 * broker instead of the manager's embedded one.
 */
export async function startSystem(options: {
  deviceId: string;
  stopId: string;
  label?: string;
  mosquitto?: Mosquitto;
  dir?: string;
  sign?: DeviceConfigOverrides;
  manager?: ManagerConfigInput;
}): Promise<RunningSystem> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-system-'));
  const manager = await startTestManager(dir, {
    ...options.manager,
    ...(options.mosquitto ? options.mosquitto.managerConfig() : {}),
  });
  const claim = await createSign(manager, {
    deviceId: options.deviceId,
    stopId: options.stopId,
    ...(options.label ? { label: options.label } : {}),
  });
  const sign = await startTestSign(dir, { ...options.sign, claim });
  return {
    dir,
    manager,
    sign,
    async stop() {
      await sign.stop();
      await manager.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SignCredentials {
  deviceId: string;
  stopId: string;
  mqtt: { url: string; username: string; password: string; caPem: string };
}

/** Trades a claim for credentials the way a sign does, for tests that speak MQTT as a sign. */
export async function claimFor(manager: RunningManager, claim: string): Promise<SignCredentials> {
  const code = new URLSearchParams(claim.slice(claim.indexOf('?') + 1)).get('code') ?? '';
  const res = await manager.api.as(undefined).post('/api/claim', { code });
  if (res.status !== 200) throw new Error(`claim failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as SignCredentials;
}

/** mqtt.js options to connect as that sign: its id, its secret, its pinned CA. */
export function signMqttOptions(credentials: SignCredentials): {
  clientId: string;
  username: string;
  password: string;
  ca: string;
  reconnectPeriod: 0;
} {
  return {
    clientId: credentials.mqtt.username,
    username: credentials.mqtt.username,
    password: credentials.mqtt.password,
    ca: credentials.mqtt.caPem,
    reconnectPeriod: 0,
  };
}
