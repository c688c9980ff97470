/**
 * A whole system for a fleet run, on loopback: the manager as its own process
 * (embedded: aedes and SQLite inside it; external: Mosquitto and PostgreSQL
 * beside it), secured as in production (TLS, every client with its own
 * account), the simulated signs registered and given credentials in its
 * store beforehand, and its timetable copied in ready-made so a run does not
 * wait for an import.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GtfsStore } from '../../manager/gtfs/gtfsStore';
import type { ManagerApi } from '../../manager/cli/managerApi';
import { randomSecret } from '../../manager/security/secrets';
import { openSharedStore } from '../../manager/store/sharedStore';
import type { StoreLocation } from '../../manager/store/storeEngine';
import { openTimetableDatabase } from '../../manager/timetable/timetableDatabase';
import { PostgresServer } from '../../tests/helpers/postgres';
import { dynsecConfig, type BrokerAccount } from '../lib/dynsecFile';
import { freePort, MosquittoBroker } from '../lib/mosquitto';
import type { CredentialSource } from './credentials';
import type { SimulatedIdentity } from './feedStops';
import {
  adminApi,
  externalBrokerEnv,
  fleetTls,
  issueSignCredentials,
  managerAccount,
  securedManagerEnv,
  writeCredentialsFile,
  type FleetTls,
} from './fleetSecurity';
import { ManagerProcess } from './managerProcess';

/** mqtt.js options for a client of the rig's own (a benchmark's watcher or bare publisher). */
export interface RigClientOptions {
  clientId: string;
  username: string;
  password: string;
  ca: string;
}

export type RigMode = 'embedded' | 'external';

export interface RigOptions {
  mode: RigMode;
  /** Scratch directory: manager data, broker config, logs. */
  dir: string;
  /** Signs registered in the store before the manager starts. */
  identities: readonly SimulatedIdentity[];
  /** A timetable.db built by buildTimetable(), copied into each manager's data dir. */
  timetableDb: string;
  /** External mode: how many managers share the broker and database. */
  managers?: number;
  /** Extra STOPSIGN_* settings for the managers. */
  env?: Record<string, string>;
  /**
   * Epoch ms the managers' clocks start at (a day inside the feed's service, so
   * boards are full); the signs are given the same clock through clockOffsetMs.
   */
  clockStartMs?: number;
  /** Mosquitto's warnings and notices to `dir/mosquitto.log`, for looking into a run. */
  brokerLog?: boolean;
}

/** Imports a feed once into `dir/timetable.db`, for rigs to copy. */
export async function buildTimetable(feedPath: string, dir: string): Promise<string> {
  const file = path.join(dir, 'timetable.db');
  if (fs.existsSync(file)) return file;
  const db = openTimetableDatabase(dir);
  try {
    const store = new GtfsStore(db);
    store.init();
    await store.importZip(feedPath, path.basename(feedPath));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return file;
}

export class FleetRig {
  readonly managers: ManagerProcess[] = [];
  private broker: MosquittoBroker | undefined;
  private pg: PostgresServer | undefined;
  private readonly envs: Record<string, string>[] = [];
  private location: StoreLocation | undefined;
  private signCredentials: Record<string, BrokerAccount> = {};
  private reader: BrokerAccount | undefined;
  private adminApi: ManagerApi | undefined;
  private credentialsPath: string | undefined;
  readonly tls: FleetTls = fleetTls();
  private offsetMs: number;

  private constructor(private readonly options: RigOptions) {
    this.offsetMs = options.clockStartMs === undefined ? 0 : options.clockStartMs - Date.now();
  }

  /** The managers' clock minus the wall clock (0 without a replay clock). */
  get clockOffsetMs(): number {
    return this.offsetMs;
  }

  /** Epoch ms on the managers' clock. */
  now(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * The clock setting for a manager started now: it holds its clock until it is
   * ready, so it runs a start-up's length behind the rig, well inside any
   * freshness limit.
   */
  private clockEnv(): Record<string, string> {
    // The first manager starts at the instant itself; a later one (a second manager, a
    // restart) where the rig's clock stands, falling behind by its own start-up time.
    const start = this.options.clockStartMs;
    if (start === undefined) return {};
    return {
      STOPSIGN_CLOCK_START: new Date(this.managers.length === 0 ? start : this.now()).toISOString(),
    };
  }

  static async start(options: RigOptions): Promise<FleetRig> {
    const rig = new FleetRig(options);
    try {
      await rig.startAll();
    } catch (err) {
      await rig.stop();
      throw err;
    }
    return rig;
  }

  /** Where the managers keep the fleet. */
  get storeLocation(): StoreLocation {
    if (!this.location) throw new Error('the rig has not started');
    return this.location;
  }

  /** The admin's API on the first manager (HTTPS, pinned to the rig's CA, an API token). */
  get api(): ManagerApi {
    if (!this.adminApi) throw new Error('the rig has not started');
    return this.adminApi;
  }

  /** Each simulated sign's credentials, as provisioning issued them. */
  get credentials(): CredentialSource {
    const table = this.signCredentials;
    const ca = this.tls.caPem;
    return async (deviceId) => {
      const found = table[deviceId];
      return found ? { ...found, ca } : undefined;
    };
  }

  /** The same, as the file a simulator process reads. */
  get credentialsFile(): string {
    if (!this.credentialsPath) throw new Error('the rig has not started');
    return this.credentialsPath;
  }

  /**
   * A client of the rig's own. External: an account that may publish and
   * read every protocol topic. Embedded: a read-only observer (only the
   * manager publishes to stops there).
   */
  clientOptions(name: string): RigClientOptions {
    const reader = this.reader;
    if (!reader) throw new Error('the rig has not started');
    const ca = this.tls.caPem;
    if (this.broker) return { clientId: `${reader.username}-${name}`, ...reader, ca };
    const username = `observer:${name}`;
    return { clientId: username, username, password: reader.password, ca };
  }

  /** What simulator processes need: the broker, the credentials file, the CA. */
  get simTarget(): {
    brokerUrl: string;
    credentialsFile: string;
    caPem: string;
    clockOffsetMs?: number;
  } {
    return {
      brokerUrl: this.brokerUrl,
      credentialsFile: this.credentialsFile,
      caPem: this.tls.caPem,
      ...(this.clockOffsetMs ? { clockOffsetMs: this.clockOffsetMs } : {}),
    };
  }

  /** Whether clientOptions() may publish to stop topics (not on the embedded broker). */
  get clientsMayPublish(): boolean {
    return this.broker !== undefined;
  }

  /** The Mosquitto process, when external. */
  get mosquittoPid(): number | undefined {
    return this.broker?.pid;
  }

  get brokerUrl(): string {
    return this.broker?.url ?? (this.managers[0] as ManagerProcess).brokerUrl;
  }

  get httpUrl(): string {
    return (this.managers[0] as ManagerProcess).httpUrl;
  }

  /** The process holding the signs' connections: the manager itself when embedded. */
  get brokerPid(): number {
    return this.broker?.pid ?? (this.managers[0] as ManagerProcess).pid;
  }

  /**
   * Restarts the broker; nothing retained survives. Embedded, the broker lives
   * in the manager, so that is a manager crash and restart on the same ports.
   */
  async restartBroker(): Promise<void> {
    if (this.broker) {
      await this.broker.kill();
      await this.broker.start();
      return;
    }
    const manager = this.managers[0] as ManagerProcess;
    await manager.kill('SIGKILL');
    const env = { ...(this.envs[0] as Record<string, string>), ...this.clockEnv() };
    this.managers[0] = await ManagerProcess.start(env, {
      logFile: path.join(this.options.dir, 'manager-0.restarted.log'),
    });
  }

  async stop(): Promise<void> {
    await this.adminApi?.close();
    await Promise.all(this.managers.map((m) => m.stop()));
    await this.broker?.kill();
    await this.pg?.stop();
  }

  private async startAll(): Promise<void> {
    const { mode, dir, identities, timetableDb } = this.options;
    fs.mkdirSync(dir, { recursive: true });
    const count = mode === 'external' ? (this.options.managers ?? 1) : 1;
    let location: StoreLocation;
    const shared: Record<string, string> = { ...securedManagerEnv(this.tls), ...this.options.env };
    const accounts = Array.from({ length: count }, (_, i) => managerAccount(i));
    if (mode === 'external') {
      this.pg = await PostgresServer.start();
      const url = await this.pg.createDatabase();
      location = { engine: 'postgres', url };
      shared.STOPSIGN_DATABASE_URL = url;
    } else {
      location = { engine: 'sqlite', file: path.join(dir, 'manager-0', 'manager.db') };
      fs.mkdirSync(path.dirname(location.file), { recursive: true });
      shared.STOPSIGN_BROKER_PORT = String(await freePort());
    }
    this.location = location;
    const signs = await registerSigns(location, identities);
    this.signCredentials = signs.credentials;
    this.credentialsPath = writeCredentialsFile(dir, signs.credentials);
    if (mode === 'external') {
      this.reader = { username: 'fleet-reader', password: randomSecret(24) };
      const dynsecFile = path.join(dir, 'dynsec.json');
      fs.writeFileSync(
        dynsecFile,
        dynsecConfig(accounts, { readers: [this.reader], signs: signs.signs }),
        { mode: 0o600 },
      );
      this.broker = await MosquittoBroker.start({
        dir,
        tls: this.tls,
        dynsecFile,
        ...(this.options.brokerLog ? { logFile: path.join(dir, 'mosquitto.log') } : {}),
      });
    } else {
      this.reader = { username: 'observer', password: randomSecret(24) };
      shared.STOPSIGN_BROKER_OBSERVER_PASSWORD = this.reader.password;
    }
    for (let i = 0; i < count; i++) {
      const dataDir = path.join(dir, `manager-${i}`);
      fs.mkdirSync(dataDir, { recursive: true });
      copyTimetable(timetableDb, dataDir);
      const env: Record<string, string> = {
        ...shared,
        ...(this.broker
          ? externalBrokerEnv(this.broker.url, accounts[i] as BrokerAccount, this.tls)
          : {}),
        STOPSIGN_MANAGER_ID: `manager-${i}`,
        STOPSIGN_MANAGER_DATA_DIR: dataDir,
        STOPSIGN_HTTP_PORT: String(await freePort()),
      };
      this.envs.push(env);
      this.managers.push(
        await ManagerProcess.start(
          { ...env, ...this.clockEnv() },
          { logFile: path.join(dir, `manager-${i}.log`) },
        ),
      );
      // A manager holds its replay clock at the instant until it is ready: from the first
      // one's ready line on, the rig's clock is exactly its clock.
      if (i === 0 && this.options.clockStartMs !== undefined) {
        this.offsetMs = this.options.clockStartMs - Date.now();
      }
    }
    this.adminApi = await adminApi(this.envs[0] as Record<string, string>, this.httpUrl, this.tls);
  }
}

/**
 * Through the store's own repositories, as the HTTP API and claims would, but
 * without a message per sign: registered, then given credentials.
 */
async function registerSigns(
  location: StoreLocation,
  identities: readonly SimulatedIdentity[],
): ReturnType<typeof issueSignCredentials> {
  const store = await openSharedStore(location, { poolSize: 8 });
  try {
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < identities.length; i += 64) {
      await Promise.all(
        identities
          .slice(i, i + 64)
          .map((s) => store.signs.register(s.deviceId, s.stopId, undefined, now)),
      );
    }
    return await issueSignCredentials(store, identities);
  } finally {
    await store.close();
  }
}

function copyTimetable(from: string, dataDir: string): void {
  const to = path.join(dataDir, 'timetable.db');
  // buildTimetable() checkpointed and closed it: the file alone is the whole database.
  if (!fs.existsSync(to)) fs.copyFileSync(from, to);
}
