/**
 * A real PostgreSQL server from Debian's `postgresql` package, started by the
 * tests in a temporary directory on a free loopback port and removed after.
 * PostgreSQL refuses to run as root, so under root (as in CI) the server runs
 * as the package's unprivileged `postgres` user in a directory it owns.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { unusedPort } from './deviceBroker';
import { waitFor } from './deviceFixtures';

const DEBIAN_BIN_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'stopsign';

export class PostgresMissingError extends Error {}

/** The bin directory of the newest PostgreSQL major version installed. */
export function postgresBinDir(root = DEBIAN_BIN_ROOT): string {
  const versions = fs.existsSync(root)
    ? fs
        .readdirSync(root)
        .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new PostgresMissingError(
      `PostgreSQL server binaries not found (looked for ${root}/*/bin/initdb): ` +
        'run `bash scripts/setup.sh`, which installs Debian’s postgresql package',
    );
  }
  return path.join(root, newest, 'bin');
}

/** uid/gid to run the server as: ourselves, or `postgres` when we are root. */
function serverIdentity(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new PostgresMissingError(
      'running as root, PostgreSQL needs the unprivileged `postgres` user, which Debian’s ' +
        'postgresql package creates: run `bash scripts/setup.sh`',
    );
  }
}

export class PostgresServer {
  private databases = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly child: ChildProcess,
  ) {}

  /** initdb + postgres on a free port; rejects with the server's own words if it will not start. */
  static async start(): Promise<PostgresServer> {
    const bin = postgresBinDir();
    const identity = serverIdentity();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-pg-'));
    if (identity) fs.chownSync(dir, identity.uid, identity.gid);
    const dataDir = path.join(dir, 'data');
    try {
      execFileSync(
        path.join(bin, 'initdb'),
        [
          '-D',
          dataDir,
          `--username=${SUPERUSER}`,
          '--auth=trust',
          '--encoding=UTF8',
          '--locale=C',
          '--no-sync',
          '--no-instructions',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'], ...identity },
      );
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`initdb failed: ${stderr || (err as Error).message}`);
    }
    // A port found free can be taken by another process before the server binds it: try again.
    for (let attempt = 1; ; attempt++) {
      const port = await unusedPort();
      try {
        return await PostgresServer.launch(bin, dir, dataDir, port, identity);
      } catch (err) {
        if (attempt >= 3) {
          fs.rmSync(dir, { recursive: true, force: true });
          throw err;
        }
      }
    }
  }

  private static async launch(
    bin: string,
    dir: string,
    dataDir: string,
    port: number,
    identity: { uid: number; gid: number } | undefined,
  ): Promise<PostgresServer> {
    // Durability is pointless for a throw-away test cluster and costs seconds per suite.
    const child = spawn(
      path.join(bin, 'postgres'),
      [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], ...identity },
    );
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const server = new PostgresServer(port, dir, child);
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`postgres exited (${code}) at start: ${log}`)));
      child.once('error', (err) => reject(err));
    });
    exited.catch(() => undefined);
    const accepting = async (): Promise<boolean> => {
      const client = new pg.Client({ connectionString: server.url('postgres') });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    await Promise.race([
      waitFor('PostgreSQL to accept connections', accepting, 20_000, 50),
      exited,
    ]);
    return server;
  }

  url(database: string): string {
    return `postgres://${SUPERUSER}@127.0.0.1:${this.port}/${database}`;
  }

  /** A new empty database on this server; returns its URL. */
  async createDatabase(prefix = 'stopsign'): Promise<string> {
    this.databases += 1;
    const name = `${prefix}_${this.databases}`;
    const client = new pg.Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Fast shutdown (SIGINT), then the directory goes. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGINT');
      await exited;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
