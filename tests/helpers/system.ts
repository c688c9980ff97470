/**
 * The whole system as test fixtures: a manager (embedded or external broker),
 * a Mosquitto broker from Debian, and a sign whose panel is the simulator on a
 * socat pty pair.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { assembleSign } from '../../device/assembleSign';
import { loadDeviceConfig, type DeviceConfigOverrides } from '../../device/config';
import type { Sign } from '../../device/sign';
import { loadManagerConfig, type ManagerConfigInput } from '../../manager/config';
import { Manager, type ManagerEndpoints } from '../../manager/manager';
import { waitFor } from './deviceFixtures';
import { tinyGtfsZip } from './gtfsFixture';
import { unusedPort } from './deviceBroker';
import { startPanelRig, type PanelRig } from './panelRig';

export const quietLogger = pino({ level: process.env.STOPSIGN_TEST_LOG ?? 'silent' });

export interface RunningManager extends ManagerEndpoints {
  manager: Manager;
  stop(): Promise<void>;
}

export async function startTestManager(
  dir: string,
  overrides: ManagerConfigInput = {},
): Promise<RunningManager> {
  const gtfsPath = path.join(dir, 'tiny-gtfs.zip');
  if (!fs.existsSync(gtfsPath)) fs.writeFileSync(gtfsPath, tinyGtfsZip());
  const config = loadManagerConfig(
    {},
    {
      httpPort: 0,
      brokerPort: 0,
      dataDir: path.join(dir, 'manager'),
      gtfsPath,
      publishIntervalSeconds: 1,
      ...overrides,
    },
  );
  const manager = new Manager(config, quietLogger.child({ side: 'manager' }));
  const endpoints = await manager.start();
  return { ...endpoints, manager, stop: () => manager.stop() };
}

export interface RunningSign {
  sign: Sign;
  rig: PanelRig;
  stop(): Promise<void>;
}

/** A sign with real SQLite, MQTT and serial; its panel is the simulator on a pty. */
export async function startTestSign(
  dir: string,
  overrides: DeviceConfigOverrides & { brokerUrl: string; deviceId: string },
): Promise<RunningSign> {
  const rig = await startPanelRig({ driver: false });
  const config = loadDeviceConfig(
    {},
    {
      dataDir: path.join(dir, `sign-${overrides.deviceId}`),
      serialPath: rig.pair.devicePath,
      reconnectMinMs: 100,
      reconnectMaxMs: 500,
      frameUploadIntervalSeconds: 1,
      statusIntervalSeconds: 2,
      logLevel: 'silent',
      ...overrides,
    },
  );
  const sign = assembleSign(config, quietLogger.child({ side: 'sign' }));
  await sign.start();
  return {
    sign,
    rig,
    async stop() {
      await sign.stop();
      await rig.close();
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** The Mosquitto settings the README recommends for external mode. */
export const MOSQUITTO_LIMITS = [
  'max_packet_size 2097152',
  'max_connections 20000',
  'max_inflight_messages 20',
  'max_queued_messages 1000',
  'max_queued_bytes 16777216',
];

/** Mosquitto from Debian on a loopback port, without persistence (a restart loses retained state). */
export class Mosquitto {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly confPath: string,
  ) {}

  static async start(dir: string, port?: number): Promise<Mosquitto> {
    const chosen = port ?? (await unusedPort());
    const confPath = path.join(dir, `mosquitto-${chosen}.conf`);
    // The same bounds as the embedded broker's defaults (see README, "External broker").
    fs.writeFileSync(
      confPath,
      [
        `listener ${chosen} 127.0.0.1`,
        'allow_anonymous true',
        'persistence false',
        'log_type error',
        ...MOSQUITTO_LIMITS,
        '',
      ].join('\n'),
    );
    const broker = new Mosquitto(chosen, confPath);
    await broker.restart();
    return broker;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
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
 * A manager with one sign registered at `stopId` and running, its panel the
 * simulator. With `brokerUrl` both talk through that broker instead of the
 * manager's embedded one.
 */
export async function startSystem(options: {
  deviceId: string;
  stopId: string;
  label?: string;
  brokerUrl?: string;
  dir?: string;
  sign?: DeviceConfigOverrides;
  manager?: ManagerConfigInput;
}): Promise<RunningSystem> {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-system-'));
  const manager = await startTestManager(dir, {
    ...options.manager,
    ...(options.brokerUrl ? { brokerMode: 'external', brokerUrl: options.brokerUrl } : {}),
  });
  const res = await postJson(`${manager.httpUrl}/api/signs`, {
    deviceId: options.deviceId,
    stopId: options.stopId,
    ...(options.label ? { label: options.label } : {}),
  });
  if (res.status !== 201) throw new Error(`registering the sign failed: ${await res.text()}`);
  const sign = await startTestSign(dir, {
    ...options.sign,
    deviceId: options.deviceId,
    brokerUrl: options.brokerUrl ?? manager.brokerUrl,
  });
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
