/**
 * The manager's side of the departures query thread. Queries wait in a
 * bounded queue and go to the thread one at a time, each with a deadline; a
 * query past it, or a thread that dies, ends only that query (with the
 * reason) and the thread is started again for the next one.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ScheduledDeparture } from '../../shared';
import { fromColumns } from './departureColumns';
import type {
  DepartureRequest,
  DepartureThreadData,
  DepartureThreadMessage,
} from './departureMessages';
import { MAX_DEPARTURES } from './departureQuery';
import type { DepartureLookup } from './timetableSchedule';

const threadEntry = new URL('./departureThread.ts', import.meta.url).href;
/** tsx's module hooks, registered inside the thread: the entry is TypeScript. */
const tsxApi = pathToFileURL(
  path.join(
    path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
    'dist/esm/api/index.mjs',
  ),
).href;
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then(({ register }) => {
  register();
  return import(workerData.entry);
});
`;

/** Starting a thread (loading the TypeScript, opening the file) takes well under this. */
const STARTUP_TIMEOUT_MS = 30_000;

/** Too many queries waiting already: the caller should try again later. */
export class DepartureQueueFullError extends Error {
  override name = 'DepartureQueueFullError';
}

/** The query passed its deadline, or the thread died under it. */
export class DepartureQueryError extends Error {
  override name = 'DepartureQueryError';
}

export interface DepartureWorkerOptions {
  /** The timetable file, opened read-only by the thread. */
  dbPath: string;
  /** Queries waiting for the thread at most (besides the one it runs); more are refused. */
  maxQueued?: number;
  /** A query still unanswered after this is abandoned and the thread started again. */
  timeoutMs?: number;
  /** The thread's V8 heap cap: a runaway query ends the thread, never the manager. */
  heapMb?: number;
  /** Called with each thread started (the first and every restart). */
  onThreadStarted?: (thread: Worker) => void;
}

interface Pending {
  request: DepartureRequest;
  resolve: (departures: ScheduledDeparture[]) => void;
  reject: (err: Error) => void;
}

interface InFlight extends Pending {
  /** Set once the query is handed to a ready thread: a thread's start does not count against it. */
  deadline?: NodeJS.Timeout;
}

interface Running {
  thread: Worker;
  ready: Promise<void>;
}

export class DepartureWorker implements DepartureLookup {
  private readonly queue: Pending[] = [];
  private running: Running | undefined;
  private inFlight: InFlight | undefined;
  private nextId = 1;
  private generation = 0;
  private started = false;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: DepartureWorkerOptions) {
    this.maxQueued = options.maxQueued ?? 256;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Starts the thread; rejects when it cannot open the timetable. */
  async start(): Promise<void> {
    this.started = true;
    await this.thread().ready;
  }

  /** Ends the thread; queries not yet answered reject. */
  async stop(): Promise<void> {
    this.started = false;
    const stopped = new DepartureQueryError('the departures query thread was stopped');
    for (const pending of this.queue.splice(0)) pending.reject(stopped);
    this.finishInFlight()?.reject(stopped);
    const running = this.running;
    this.running = undefined;
    if (running) await running.thread.terminate();
  }

  /** A new feed was committed: queries from now on answer from it. */
  reload(): void {
    this.generation += 1;
  }

  departures(
    stopId: string,
    fromEpoch: number,
    untilEpoch: number,
    limit = MAX_DEPARTURES,
  ): Promise<ScheduledDeparture[]> {
    if (!this.started) {
      return Promise.reject(new DepartureQueryError('the departures query thread is not running'));
    }
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(
        new DepartureQueueFullError(
          `too many departures queries waiting (${this.maxQueued}); try again shortly`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const request = {
        id: this.nextId++,
        generation: this.generation,
        stopId,
        fromEpoch,
        untilEpoch,
        limit,
      };
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  /** Sends the next waiting query once the thread is free and ready. */
  private pump(): void {
    if (this.inFlight || this.queue.length === 0 || !this.started) return;
    const running = this.thread();
    const inFlight: InFlight = { ...this.queue.shift()! };
    this.inFlight = inFlight;
    running.ready.then(
      () => {
        if (this.inFlight !== inFlight || this.running !== running) return;
        inFlight.deadline = setTimeout(() => this.timedOut(running.thread), this.timeoutMs);
        running.thread.postMessage(inFlight.request);
      },
      (err: Error) => this.threadEnded(running.thread, err.message),
    );
  }

  private thread(): Running {
    if (this.running) return this.running;
    const thread = new Worker(BOOT, {
      eval: true,
      workerData: {
        tsxApi,
        entry: threadEntry,
        dbPath: this.options.dbPath,
      } satisfies DepartureThreadData & { tsxApi: string; entry: string },
      resourceLimits: { maxOldGenerationSizeMb: this.options.heapMb ?? 256 },
    });
    // A manager that stopped is never held up by this thread.
    thread.unref();
    // A thread that never gets ready (a hung open) is ended, and its query with it.
    const startup = setTimeout(() => void thread.terminate(), STARTUP_TIMEOUT_MS);
    const ready = new Promise<void>((resolve, reject) => {
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`exit code ${code}`)));
      thread.once('message', () => resolve());
    }).finally(() => clearTimeout(startup));
    ready.catch(() => undefined);
    thread.on('message', (message: DepartureThreadMessage) => this.answered(message));
    thread.on('error', (err) => this.threadEnded(thread, err.message));
    thread.on('exit', (code) => this.threadEnded(thread, `exit code ${code}`));
    this.running = { thread, ready };
    this.options.onThreadStarted?.(thread);
    return this.running;
  }

  private answered(message: DepartureThreadMessage): void {
    if (message.kind === 'ready' || message.id !== this.inFlight?.request.id) return;
    const pending = this.finishInFlight()!;
    if (message.kind === 'answer') pending.resolve(fromColumns(message.departures));
    else pending.reject(new DepartureQueryError(`departures query failed: ${message.message}`));
    this.pump();
  }

  private timedOut(thread: Worker): void {
    const pending = this.finishInFlight();
    pending?.reject(
      new DepartureQueryError(
        `departures query for stop ${pending.request.stopId} took longer than ${this.timeoutMs} ms and was abandoned`,
      ),
    );
    // SQLite cannot be interrupted from here: the thread goes, a fresh one takes the next query.
    this.forget(thread);
    void thread.terminate();
    this.pump();
  }

  /** The thread died or failed to start: the query it held fails, the next one starts another. */
  private threadEnded(thread: Worker, reason: string): void {
    if (this.running?.thread !== thread) return;
    this.forget(thread);
    this.finishInFlight()?.reject(
      new DepartureQueryError(`the departures query thread stopped (${reason}) before answering`),
    );
    this.pump();
  }

  private forget(thread: Worker): void {
    if (this.running?.thread === thread) this.running = undefined;
  }

  private finishInFlight(): Pending | undefined {
    const pending = this.inFlight;
    if (pending?.deadline) clearTimeout(pending.deadline);
    this.inFlight = undefined;
    return pending;
  }
}
