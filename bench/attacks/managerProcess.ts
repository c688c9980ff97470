/**
 * A manager started as its own process from a given checkout, so the same
 * attack can be measured on this code and on an earlier one in one run: peak
 * RSS from /proc, and the worst HTTP answer time while an attack runs (an
 * event loop blocked in the manager shows up as a late answer). The manager
 * runs as it is deployed: HTTPS and MQTT over TLS (the test CA's
 * certificate), an admin's API token made with the checkout's operator CLI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Agent, fetch, type RequestInit, type Response } from 'undici';
import { testTls } from '../../tests/helpers/testTls';

/** The password of read-only observer:<name> MQTT accounts on the attacked broker. */
export const OBSERVER_PASSWORD = 'observer password for the attacks';

export interface ManagerProcess {
  httpUrl: string;
  brokerPort: number;
  /** The CA that signed the manager's certificate (HTTPS and MQTT). */
  caPem: string;
  /** An admin's API token. */
  token: string;
  /** fetch on the manager, trusting its CA, as the admin unless headers say otherwise. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  pid: number;
  alive(): boolean;
  /** MiB, from VmRSS. */
  rss(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startManagerProcess(
  root: string,
  dataDir: string,
  gtfsPath: string,
  env: Record<string, string> = {},
): Promise<ManagerProcess> {
  const httpPort = await freePort();
  const brokerPort = await freePort();
  const tls = testTls();
  const managerEnv = {
    ...process.env,
    STOPSIGN_HTTP_PORT: String(httpPort),
    STOPSIGN_BROKER_PORT: String(brokerPort),
    STOPSIGN_MANAGER_DATA_DIR: dataDir,
    STOPSIGN_GTFS_PATH: gtfsPath,
    STOPSIGN_PUBLISH_INTERVAL_SECONDS: '5',
    STOPSIGN_TLS_CERT_FILE: tls.certFile,
    STOPSIGN_TLS_KEY_FILE: tls.keyFile,
    STOPSIGN_TLS_CA_FILE: tls.caFile,
    STOPSIGN_BROKER_OBSERVER_PASSWORD: OBSERVER_PASSWORD,
    // Operator passwords hashed cheaply: the attacks are not on the login.
    STOPSIGN_SCRYPT_COST: '12',
    ...env,
  };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'manager/main.ts')],
    { cwd: root, env: managerEnv, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // The last of what it printed on stderr, to say why it did not start.
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
  const httpUrl = `https://127.0.0.1:${httpPort}`;
  const dispatcher = new Agent({
    connect: { ca: tls.caPem },
    headersTimeout: 0,
    bodyTimeout: 0,
  });
  const trusted = (url: string, init: RequestInit = {}) => fetch(url, { ...init, dispatcher });
  // A start on a busy machine (TypeScript compiled on the fly) can take a minute or more.
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      if ((await trusted(`${httpUrl}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`manager from ${root} did not start: ${stderr.trim().slice(-600)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid ?? -1;
  const token = await adminToken(root, managerEnv);
  return {
    httpUrl,
    brokerPort,
    caPem: tls.caPem,
    token,
    fetch: (p, init = {}) =>
      trusted(`${httpUrl}${p}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...init.headers },
      }),
    pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    rss: () => procMiB(pid, 'VmRSS'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(force);
      await dispatcher.close();
    },
  };
}

/** An admin and their API token, made with the checkout's own operator CLI on the manager's store. */
async function adminToken(root: string, env: NodeJS.ProcessEnv): Promise<string> {
  const cli = (...args: string[]) =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(root, 'manager/cli/operator.ts'), ...args],
      { cwd: root, env },
    );
  await cli('create', '--username', 'attacks-admin', '--role', 'admin', '--json');
  const { stdout } = await cli(
    'token',
    '--username',
    'attacks-admin',
    '--name',
    'attacks',
    '--json',
  );
  const { token } = JSON.parse(stdout) as { token?: string };
  if (!token) throw new Error(`no token from the operator CLI: ${stdout.slice(0, 200)}`);
  return token;
}

export function procMiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(text)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

export interface Watch {
  /** Highest RSS seen, MiB. */
  peakRss: number;
  /** Longest a /api/health request took, ms (a request still open counts up to now). */
  worstAnswerMs: number;
  /** Health requests that failed: the manager was gone. */
  failedAnswers: number;
}

/** Samples RSS every 50 ms and asks /api/health every 100 ms until stopped. */
export function watch(manager: ManagerProcess): { stop(): Watch } {
  const result: Watch = { peakRss: manager.rss(), worstAnswerMs: 0, failedAnswers: 0 };
  let running = true;
  const sampler = setInterval(() => {
    const rss = manager.rss();
    if (rss > result.peakRss) result.peakRss = rss;
  }, 50);
  let openSince: number | null = null;
  const probe = async () => {
    while (running) {
      openSince = performance.now();
      try {
        await manager.fetch('/api/health', { signal: AbortSignal.timeout(300_000) });
      } catch {
        result.failedAnswers += 1;
      }
      result.worstAnswerMs = Math.max(result.worstAnswerMs, performance.now() - openSince);
      openSince = null;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  void probe();
  return {
    stop() {
      running = false;
      clearInterval(sampler);
      if (openSince !== null) {
        result.worstAnswerMs = Math.max(result.worstAnswerMs, performance.now() - openSince);
      }
      return { ...result };
    },
  };
}
