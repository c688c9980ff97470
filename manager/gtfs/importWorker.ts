/**
 * Worker-thread entry: imports one GTFS zip into the manager's database through
 * a connection of its own, so the manager's event loop (and, when embedded, the
 * MQTT broker every sign talks to) keeps running during a multi-second import.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { refuseDroppedStops, StopsDroppedError, type SignAtStop } from './feedChecks';
import { GtfsStore } from './gtfsStore';
import type { ImportSummary } from './types';

export interface ImportJob {
  dbPath: string;
  bytes: Uint8Array;
  source: string;
  /** Signs whose stops the new feed must keep, unless forced. */
  signsInUse?: SignAtStop[];
  force?: boolean;
}

export type ImportOutcome =
  | { ok: true; summary: ImportSummary }
  | { ok: false; message: string; droppedSigns?: SignAtStop[] };

function run(job: ImportJob): ImportOutcome {
  const db = new Database(job.dbPath, { timeout: 30_000 });
  try {
    const store = new GtfsStore(db);
    store.init();
    const summary = store.importZip(job.bytes, job.source, (feed) =>
      refuseDroppedStops(
        feed.stops.map((s) => s.stopId),
        job.signsInUse ?? [],
        job.force ?? false,
      ),
    );
    return { ok: true, summary };
  } catch (err) {
    if (err instanceof StopsDroppedError) {
      return { ok: false, message: err.message, droppedSigns: err.signs };
    }
    return { ok: false, message: (err as Error).message };
  } finally {
    db.close();
  }
}

parentPort?.postMessage(run(workerData as ImportJob));
