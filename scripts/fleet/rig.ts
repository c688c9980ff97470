/**
 * A whole system for a fleet run, on loopback: the manager as its own process
 * (embedded: aedes and SQLite inside it; external: Mosquitto and PostgreSQL
 * beside it), the simulated signs registered in its store beforehand, and its
 * timetable copied in ready-made so a run does not wait for an import.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GtfsStore } from '../../manager/gtfs/gtfsStore';
import { openSharedStore } from '../../manager/store/sharedStore';
import type { StoreLocation } from '../../manager/store/storeEngine';
import { openTimetableDatabase } from '../../manager/timetable/timetableDatabase';
import { PostgresServer } from '../../tests/helpers/postgres';
import { freePort, MosquittoBroker } from '../lib/mosquitto';
import type { SimulatedIdentity } from './feedStops';
import { ManagerProcess } from './managerProcess';

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
}

/** Imports a feed once into `dir/timetable.db`, for rigs to copy. */
export function buildTimetable(feedPath: string, dir: string): string {
  const file = path.join(dir, 'timetable.db');
  if (fs.existsSync(file)) return file;
  const db = openTimetableDatabase(dir);
  try {
    const store = new GtfsStore(db);
    store.init();
    store.importZip(fs.readFileSync(feedPath), path.basename(feedPath));
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

  private constructor(private readonly options: RigOptions) {}

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
    this.managers[0] = await ManagerProcess.start(this.envs[0] as Record<string, string>, {
      logFile: path.join(this.options.dir, 'manager-0.restarted.log'),
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.managers.map((m) => m.stop()));
    await this.broker?.kill();
    await this.pg?.stop();
  }

  private async startAll(): Promise<void> {
    const { mode, dir, identities, timetableDb } = this.options;
    fs.mkdirSync(dir, { recursive: true });
    const count = mode === 'external' ? (this.options.managers ?? 1) : 1;
    let location: StoreLocation;
    const shared: Record<string, string> = { ...this.options.env };
    if (mode === 'external') {
      this.pg = await PostgresServer.start();
      this.broker = await MosquittoBroker.start({ dir });
      const url = await this.pg.createDatabase();
      location = { engine: 'postgres', url };
      Object.assign(shared, {
        STOPSIGN_BROKER_MODE: 'external',
        STOPSIGN_BROKER_URL: this.broker.url,
        STOPSIGN_DATABASE_URL: url,
      });
    } else {
      location = { engine: 'sqlite', file: path.join(dir, 'manager-0', 'manager.db') };
      shared.STOPSIGN_BROKER_PORT = String(await freePort());
    }
    this.location = location;
    await registerSigns(location, identities);
    for (let i = 0; i < count; i++) {
      const dataDir = path.join(dir, `manager-${i}`);
      fs.mkdirSync(dataDir, { recursive: true });
      copyTimetable(timetableDb, dataDir);
      const env = {
        ...shared,
        STOPSIGN_MANAGER_ID: `manager-${i}`,
        STOPSIGN_MANAGER_DATA_DIR: dataDir,
        STOPSIGN_HTTP_PORT: String(await freePort()),
      };
      this.envs.push(env);
      this.managers.push(
        await ManagerProcess.start(env, { logFile: path.join(dir, `manager-${i}.log`) }),
      );
    }
  }
}

/** Through the store's own repository, as the HTTP API would, but without a message per sign. */
async function registerSigns(
  location: StoreLocation,
  identities: readonly SimulatedIdentity[],
): Promise<void> {
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
  } finally {
    await store.close();
  }
}

function copyTimetable(from: string, dataDir: string): void {
  const to = path.join(dataDir, 'timetable.db');
  // buildTimetable() checkpointed and closed it: the file alone is the whole database.
  if (!fs.existsSync(to)) fs.copyFileSync(from, to);
}
