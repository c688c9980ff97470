/**
 * A manager started as its own process from a given checkout, so the same
 * attack can be measured on this code and on an earlier one in one run: peak
 * RSS from /proc, and the worst HTTP answer time while an attack runs (an
 * event loop blocked in the manager shows up as a late answer).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface ManagerProcess {
  httpUrl: string;
  brokerPort: number;
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
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'manager/main.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        STOPSIGN_HTTP_PORT: String(httpPort),
        STOPSIGN_BROKER_PORT: String(brokerPort),
        STOPSIGN_MANAGER_DATA_DIR: dataDir,
        STOPSIGN_GTFS_PATH: gtfsPath,
        STOPSIGN_PUBLISH_INTERVAL_SECONDS: '5',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'ignore'],
    },
  );
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${httpUrl}/api/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      throw new Error(`manager from ${root} did not start`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid ?? -1;
  return {
    httpUrl,
    brokerPort,
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
    },
  };
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
        await fetch(`${manager.httpUrl}/api/health`, { signal: AbortSignal.timeout(300_000) });
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
