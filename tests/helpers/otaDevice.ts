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
  private supervisor: ChildProcess | null = null;
  private agent: ChildProcess | null = null;
  private agentWanted = false;
  agentStarts = 0;

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

  startSign(): void {
    const pidFile = path.join(this.o.dir, 'supervisor.pid');
    this.supervisor = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'tests/helpers/signSupervisor.ts')],
      { cwd: PROJECT_ROOT, env: this.env(), stdio: 'ignore' },
    );
    fs.writeFileSync(pidFile, String(this.supervisor.pid));
    this.o.agentEnv = {
      STOPSIGN_UPDATE_RESTART_COMMAND: `kill -HUP ${this.supervisor.pid}`,
      ...this.o.agentEnv,
    };
  }

  startAgent(): void {
    this.agentWanted = true;
    const slot = fs.realpathSync(path.join(this.root, 'committed'));
    const out = fs.openSync(`${this.log}.agent`, 'a');
    const child = spawn(
      path.join(slot, 'runtime', 'bin', 'node'),
      ['--enable-source-maps', 'dist/update-agent.mjs'],
      { cwd: path.join(slot, 'app'), env: this.env(), stdio: ['ignore', out, out] },
    );
    fs.closeSync(out);
    this.agentStarts += 1;
    this.agent = child;
    child.once('exit', () => {
      if (this.agent === child) this.agent = null;
      // Restart=always, RestartSec shortened for the test.
      if (this.agentWanted)
        setTimeout(() => this.agentWanted && !this.agent && this.startAgent(), 300);
    });
  }

  /** Power cut for the agent: no chance to clean up. Its service manager starts it again. */
  async killAgent(): Promise<void> {
    const child = this.agent;
    if (!child) throw new Error('the agent is not running');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
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
    this.agentWanted = false;
    const stopChild = async (child: ChildProcess | null) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      await exited;
      clearTimeout(timer);
    };
    await stopChild(this.agent);
    await stopChild(this.supervisor);
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
