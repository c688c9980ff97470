/**
 * SQLite in WAL mode copies the log back into the database file at the commit
 * that takes the log past 1000 pages. After a city's feed is recorded (tens of
 * megabytes of chunks) that copy ran inside the commit, on the manager's event
 * loop, for seconds. So the manager's own connection never checkpoints: a
 * worker thread with a connection of its own does, every few seconds, in
 * PASSIVE mode (it waits for no reader or writer).
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** After a checkpoint the log file is cut back to this, not left at its largest. */
const KEEP_LOG_BYTES = 64 * 1024 * 1024;

// Plain CommonJS evaluated by the worker, so it needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 10000 });
db.pragma('journal_size_limit = ${KEEP_LOG_BYTES}');
parentPort.on('message', (message) => {
  if (message === 'stop') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage(String(err && err.message));
  }
});
`;

export class WalCheckpointer {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly file: string,
    private readonly logger: Logger | undefined,
    private readonly intervalMs = 2000,
  ) {}

  start(): void {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file: this.file, driver },
    });
    // Neither keeps the process alive: a manager that stopped is not held up by its store's upkeep.
    worker.unref();
    worker.on('message', (reason: string) =>
      this.logger?.warn({ reason }, 'shared store checkpoint failed; will retry'),
    );
    worker.on('error', (err) =>
      this.logger?.warn({ err: err.message }, 'shared store checkpoint worker failed'),
    );
    this.worker = worker;
    this.timer = setInterval(() => worker.postMessage('checkpoint'), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage('stop');
    const late = setTimeout(() => void worker.terminate(), 5000);
    await exited;
    clearTimeout(late);
  }
}
