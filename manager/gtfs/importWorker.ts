/**
 * Worker-thread entry: imports one GTFS zip into the manager's database through
 * a connection of its own, so the manager's event loop (and, when embedded, the
 * MQTT broker every sign talks to) keeps running during a multi-second import.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { GtfsStore } from './gtfsStore';
import type { ImportSummary } from './types';

export interface ImportJob {
  dbPath: string;
  bytes: Uint8Array;
  source: string;
}

export type ImportOutcome = { ok: true; summary: ImportSummary } | { ok: false; message: string };

function run(job: ImportJob): ImportOutcome {
  const db = new Database(job.dbPath, { timeout: 30_000 });
  try {
    const store = new GtfsStore(db);
    store.init();
    return { ok: true, summary: store.importZip(job.bytes, job.source) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  } finally {
    db.close();
  }
}

parentPort?.postMessage(run(workerData as ImportJob));
