/**
 * A sign's disk in a temp directory, laid out as on the board, with its two
 * services run the way systemd runs them: the sign under signSupervisor.ts
 * (boot guard, restart on exit and on "systemctl restart"), and the update
 * agent from the committed slot, restarted whenever it exits or is killed.
 *   opt/stopsign/{slots/a,slots/b,current,committed}   var/lib/stopsign (sign data)
 *   var/lib/stopsign-update (agent state)   etc/stopsign/trusted-keys.json   run/stopsign/health.json
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { readHealth, type SignHealth } from '../../device/health/healthReport';
import { provisionSlot } from '../../device/update/provision';
import { Slots } from '../../device/update/slots';
import { TrustStore } from '../../device/update/trustStore';
import { updateState, type UpdateState } from '../../device/update/updateState';
import type { PublicKeyEntry } from '../../shared';
import { waitFor } from './deviceFixtures';
import { PROJECT_ROOT } from './releaseBundles';
import { HARDWARE } from './updateFixtures';

export interface OtaDeviceOptions {
  dir: string;
  deviceId: string;
  brokerUrl: string;
  serialPath: string;
  keys: PublicKeyEntry[];
  agentEnv?: Record<string, string>;
}

export class OtaDevice {
  readonly root: string;
  readonly stateDir: string;
  readonly healthFile: string;
  readonly slots: Slots;
  private services: ChildProcess | null = null;

  constructor(private readonly o: OtaDeviceOptions) {
    this.root = path.join(o.dir, 'opt', 'stopsign');
    this.stateDir = path.join(o.dir, 'var', 'lib', 'stopsign-update');
    this.healthFile = path.join(o.dir, 'run', 'stopsign', 'health.json');
    this.slots = new Slots(this.root);
    fs.mkdirSync(this.stateDir, { recursive: true });
    fs.mkdirSync(path.join(o.dir, 'etc', 'stopsign'), { recursive: true });
    fs.writeFileSync(this.keysFile, JSON.stringify({ keys: o.keys }));
  }

  get keysFile(): string {
    return path.join(this.o.dir, 'etc', 'stopsign', 'trusted-keys.json');
  }

  get log(): string {
    return path.join(this.o.dir, 'services.log');
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      STOPSIGN_DEVICE_ID: this.o.deviceId,
      STOPSIGN_BROKER_URL: this.o.brokerUrl,
      STOPSIGN_SERIAL_PATH: this.o.serialPath,
      STOPSIGN_DATA_DIR: path.join(this.o.dir, 'var', 'lib', 'stopsign'),
      STOPSIGN_HEALTH_FILE: this.healthFile,
      STOPSIGN_RECONNECT_MIN_MS: '100',
      STOPSIGN_RECONNECT_MAX_MS: '500',
      STOPSIGN_LOG_LEVEL: 'info',
      STOPSIGN_HARDWARE: HARDWARE,
      STOPSIGN_UPDATE_ROOT: this.root,
      STOPSIGN_UPDATE_STATE_DIR: this.stateDir,
      STOPSIGN_UPDATE_TRUSTED_KEYS: this.keysFile,
      STOPSIGN_UPDATE_RETRY_MIN_MS: '200',
      STOPSIGN_UPDATE_RETRY_MAX_MS: '1000',
      SUP_ROOT: this.root,
      SUP_STATE: this.stateDir,
      SUP_LOG: this.log,
      ...this.o.agentEnv,
    };
  }

  /** Flashes the factory bundle into slot a, as the image build does. */
  async provision(bundle: string): Promise<void> {
    await provisionSlot({
      bundle,
      slots: this.slots,
      trust: new TrustStore(this.stateDir, this.keysFile),
      hardware: HARDWARE,
      nowMs: Date.now(),
    });
  }

  /**
   * Flashes this disk from a provisioned one, as boards are flashed from one
   * image: slot files become hard links (nothing ever writes into an installed
   * slot; an install empties the spare one first), links and state are copied.
   */
  flashFrom(image: OtaDevice): void {
    copyTree(image.root, this.root);
    fs.cpSync(image.stateDir, this.stateDir, { recursive: true });
  }

  /** Starts the sign's service, and with startAgent() the agent's, under deviceServices.ts. */
  startSign(): void {
    const services = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/deviceServices.ts')],
      { cwd: PROJECT_ROOT, env: this.env(), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
    );
    this.services = services;
  }

  startAgent(): void {
    this.services?.send('start-agent');
  }

  agentPid(): number | null {
    try {
      return Number(fs.readFileSync(`${this.log}.agent.pid`, 'utf8'));
    } catch {
      return null;
    }
  }

  /** Power cut for the agent: no chance to clean up. Its service manager starts it again. */
  async killAgent(): Promise<void> {
    const pid = this.agentPid();
    if (!pid) throw new Error('the agent is not running');
    process.kill(pid, 'SIGKILL');
    await waitFor('the agent to restart', () => this.agentPid() !== pid, 10_000, 20);
  }

  state(): UpdateState | null {
    try {
      return updateState.parse(
        JSON.parse(fs.readFileSync(path.join(this.stateDir, 'state.json'), 'utf8')),
      );
    } catch {
      return null;
    }
  }

  health(): SignHealth | null {
    return readHealth(this.healthFile);
  }

  /** The sign runs `version` from the committed slot, connected, with a frame on the glass. */
  async waitUntilServing(version: string, timeoutMs = 60_000): Promise<SignHealth> {
    await waitFor(
      `the sign serving ${version} from the committed slot`,
      () => {
        const h = this.health();
        return (
          h !== null &&
          h.version === version &&
          h.brokerConnected &&
          h.frameAcked &&
          this.slots.current() === this.slots.committed() &&
          processAlive(h.pid)
        );
      },
      timeoutMs,
      100,
    );
    return this.health() as SignHealth;
  }

  async stop(): Promise<void> {
    const services = this.services;
    this.services = null;
    if (!services || services.exitCode !== null) return;
    const exited = new Promise((r) => services.once('exit', r));
    services.kill('SIGTERM');
    await exited;
  }
}

/** Mirrors a tree: directories made, files hard-linked, symbolic links re-created. */
function copyTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst);
    else if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(src), dst);
    else fs.linkSync(src, dst);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
