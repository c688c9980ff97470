/**
 * Debian's Mosquitto on a loopback port, for the fleet simulator and its
 * benchmarks: restartable on the same port, with or without persistence, and
 * with as many connections as the process may open files. Secured as in
 * production when given TLS files and a dynamic-security file: TLS only, no
 * anonymous clients, accounts and topics from dynsec.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface MosquittoOptions {
  dir: string;
  port?: number;
  /** Keep retained messages and sessions across a restart (written on stop). */
  persistence?: boolean;
  /** Extra mosquitto.conf lines. */
  extraConfig?: string[];
  /** TLS only on the listener, with this certificate and key. */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** The dynamic-security plugin with this file's accounts and roles; no anonymous clients. */
  dynsecFile?: string;
  /** Warnings and notices (dropped messages, lost clients) to this file; otherwise errors only. */
  logFile?: string;
}

const DYNSEC_PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export class MosquittoBroker {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly confPath: string,
    private readonly secured: boolean,
  ) {}

  static async start(options: MosquittoOptions): Promise<MosquittoBroker> {
    const port = options.port ?? (await freePort());
    const confPath = path.join(options.dir, `mosquitto-${port}.conf`);
    const { tls, dynsecFile } = options;
    const lines = [
      // Run as root (a CI machine's tests are) it keeps reading the 0600 key and dynsec file.
      'user root',
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      `allow_anonymous ${dynsecFile ? 'false' : 'true'}`,
      ...(tls
        ? [`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`]
        : []),
      ...(dynsecFile ? [`plugin ${DYNSEC_PLUGIN}`, `plugin_opt_config_file ${dynsecFile}`] : []),
      `persistence ${options.persistence ? 'true' : 'false'}`,
      `persistence_location ${options.dir}/`,
      'log_type error',
      ...(options.logFile
        ? ['log_type warning', 'log_type notice', `log_dest file ${options.logFile}`]
        : []),
      // Thousands of signs reconnecting at once queue up in the listen backlog.
      'max_connections -1',
      ...(options.extraConfig ?? []),
    ];
    fs.writeFileSync(confPath, `${lines.join('\n')}\n`);
    const broker = new MosquittoBroker(port, confPath, tls !== undefined);
    await broker.start();
    return broker;
  }

  get url(): string {
    return `${this.secured ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn('mosquitto', ['-c', this.confPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-4000);
    });
    const failed = new Promise<never>((_resolve, reject) => {
      child.once('error', (err) =>
        reject(new Error(`mosquitto could not start (${err.message}): run scripts/setup.sh`)),
      );
      child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${log}`)));
    });
    failed.catch(() => undefined);
    this.child = child;
    await Promise.race([waitForListener(this.port, 10_000), failed]);
  }

  /** SIGKILL: nothing is saved, like a crash. */
  async kill(): Promise<void> {
    await this.end('SIGKILL');
  }

  /** SIGTERM: a clean stop that writes the persistence file when persistence is on. */
  async stop(): Promise<void> {
    await this.end('SIGTERM');
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

async function waitForListener(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline)
      throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
