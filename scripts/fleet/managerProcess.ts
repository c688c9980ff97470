/**
 * The manager as its own process (manager/main.ts), configured by environment
 * alone as in production, for tests and benchmarks that kill it, restart it,
 * or measure its CPU and memory apart from the signs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY = /console and API at (\S+), MQTT at (\S+)/;
/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10;

export class ManagerProcess {
  private log = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly httpUrl: string,
    readonly brokerUrl: string,
  ) {}

  /** Starts a manager with `env` (STOPSIGN_* variables) and waits until it serves. */
  static async start(
    env: Record<string, string>,
    options: {
      timeoutMs?: number;
      logFile?: string;
      /** Runs it under this open-file limit (soft and hard), as a service's LimitNOFILE would. */
      openFiles?: number;
    } = {},
  ): Promise<ManagerProcess> {
    const node = [process.execPath, '--import', 'tsx', path.join(ROOT, 'manager/main.ts')];
    const command =
      options.openFiles === undefined
        ? node
        : ['prlimit', `--nofile=${options.openFiles}:${options.openFiles}`, '--', ...node];
    const child = spawn(command[0] as string, command.slice(1), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logStream = options.logFile ? fs.createWriteStream(options.logFile) : undefined;
    let log = '';
    const ready = new Promise<[string, string]>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`manager did not start within ${options.timeoutMs ?? 60_000} ms:\n${log}`),
          ),
        options.timeoutMs ?? 60_000,
      );
      const onData = (chunk: Buffer): void => {
        const text = chunk.toString();
        logStream?.write(text);
        log = (log + text).slice(-8000);
        const match = READY.exec(log);
        if (match) {
          clearTimeout(timer);
          resolve([match[1] as string, match[2] as string]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`manager exited (${code ?? signal}) before it served:\n${log}`));
      });
    });
    const [httpUrl, brokerUrl] = await ready;
    const manager = new ManagerProcess(child, httpUrl, brokerUrl);
    const keep = (chunk: Buffer): void => {
      manager.log = (manager.log + chunk.toString()).slice(-8000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return manager;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last few kB it logged, for a failing test's message. */
  recentLog(): string {
    return this.log;
  }

  /** Sends `signal` and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill(signal);
    await exited;
  }

  /** A clean stop (SIGTERM); killed if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** User plus system CPU time it has used so far, from /proc. */
  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  /** Its peak resident set so far (VmHWM), in MiB. */
  peakRssMiB(): number {
    return peakRssMiB(this.pid);
  }
}

export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces: utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}

export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}
