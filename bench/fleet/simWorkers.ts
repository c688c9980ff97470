/**
 * The benchmark's side of its simulator processes: starts them with a slice
 * of the fleet each, adds up their counts, and gathers per-sign times.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FleetCounts, SignTiming } from '../../scripts/fleet/fleetSimulator';
import type { SimulatedIdentity } from '../../scripts/fleet/feedStops';
import type { FromWorker, MarkKind, SignSnapshot, SimTarget, ToWorker } from './simProtocol';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'simWorker.ts');

interface Worker {
  child: ChildProcess;
  counts: FleetCounts;
  rssMiB: number;
  size: number;
}

export class SimWorkers {
  private readonly workers: Worker[] = [];
  private nextRequest = 0;
  /** Request id → the resolver of the worker's answer to it. */
  private readonly waiting = new Map<number, (answer: number[] | SignSnapshot[]) => void>();
  private failure: string | undefined;

  constructor(private readonly processes: number) {}

  async start(
    what: 'signs' | 'bare',
    target: SimTarget,
    identities: readonly SimulatedIdentity[],
    rampPerSecond: number,
    timing: Partial<SignTiming>,
  ): Promise<void> {
    const per = Math.ceil(identities.length / this.processes);
    const started: Promise<void>[] = [];
    for (let i = 0; i < this.processes; i++) {
      const slice = identities.slice(i * per, (i + 1) * per);
      if (slice.length === 0) continue;
      const child = fork(WORKER, [], {
        execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const worker: Worker = { child, counts: emptyCounts(), rssMiB: 0, size: slice.length };
      this.workers.push(worker);
      started.push(
        new Promise<void>((resolve) => {
          child.on('message', (message: FromWorker) => {
            if (message.type === 'counts') {
              worker.counts = message.counts;
              worker.rssMiB = message.rssMiB;
            } else if (message.type === 'collected' || message.type === 'inspected') {
              this.waiting.get(message.requestId)?.(
                message.type === 'collected' ? message.times : message.signs,
              );
              this.waiting.delete(message.requestId);
            } else if (message.type === 'failed') {
              this.failure = message.error;
            } else if (message.type === 'started') {
              resolve();
            }
          });
        }),
      );
      // Each worker ramps its own share: together they ramp at the requested rate.
      this.send(child, {
        cmd: 'start',
        bare: what === 'bare',
        target,
        identities: slice,
        rampPerSecond: rampPerSecond / this.processes,
        timing,
      });
    }
    await Promise.all(started);
  }

  /** The workers' latest counts, added up (at most 250 ms old). */
  counts(): FleetCounts {
    this.throwIfFailed();
    const total = emptyCounts();
    for (const { counts } of this.workers) {
      for (const key of Object.keys(total) as (keyof FleetCounts)[]) total[key] += counts[key];
    }
    return total;
  }

  /** Peak resident set across the worker processes, MiB each. */
  rssMiB(): number[] {
    return this.workers.map((w) => w.rssMiB);
  }

  /** From now, each sign's first receipt of these kinds (or reconnect) is recorded. */
  mark(kinds: MarkKind[]): void {
    for (const w of this.workers) this.send(w.child, { cmd: 'mark', kinds });
  }

  /** Per sign, the wall-clock ms it first got `kind` since the mark; NaN when it has not. */
  collect(kind: MarkKind): Promise<number[]> {
    return this.askAll<number>((requestId) => ({ cmd: 'collect', requestId, kind }));
  }

  /** What these signs hold now (connected, stop, announcements), from whichever worker has them. */
  inspect(deviceIds: string[]): Promise<SignSnapshot[]> {
    return this.askAll<SignSnapshot>((requestId) => ({ cmd: 'inspect', requestId, deviceIds }));
  }

  /** Asks every worker, each under its own request id; their answers in worker order, joined. */
  private async askAll<E extends number | SignSnapshot>(
    request: (requestId: number) => ToWorker,
  ): Promise<E[]> {
    const parts = await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<E[]>((resolve) => {
            const requestId = ++this.nextRequest;
            this.waiting.set(requestId, (answer) => resolve(answer as E[]));
            this.send(w.child, request(requestId));
          }),
      ),
    );
    return parts.flat();
  }

  drop(share: number): void {
    for (const w of this.workers) this.send(w.child, { cmd: 'drop', share });
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            const timer = setTimeout(() => w.child.kill('SIGKILL'), 120_000);
            w.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(w.child, { cmd: 'stop' });
          }),
      ),
    );
    this.workers.length = 0;
  }

  private send(child: ChildProcess, message: ToWorker): void {
    child.send(message);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw new Error(`simulator process failed: ${this.failure}`);
  }
}

function emptyCounts(): FleetCounts {
  return { signs: 0, connected: 0, configured: 0, withSchedule: 0, withArrivals: 0, live: 0 };
}
