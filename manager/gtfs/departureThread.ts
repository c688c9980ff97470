/**
 * Entry of the departures query thread. A big stop's 30-hour slice takes tens
 * of milliseconds of SQLite and sorting; here that time is spent beside the
 * manager's event loop (broker, HTTP), not on it. The thread has its own
 * read-only connection: in WAL mode a reader never blocks the import writing
 * the next feed, and each query sees the last committed one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type {
  DepartureRequest,
  DepartureThreadData,
  DepartureThreadMessage,
} from './departureMessages';
import { columnBuffers, toColumns } from './departureColumns';
import { DepartureQuery } from './departureQuery';
import { readImportMeta, type ImportMeta } from './importMeta';

const port = parentPort;
if (!port) throw new Error('the departures query thread must run as a worker thread');
const { dbPath } = workerData as DepartureThreadData;

const db = new Database(dbPath, { readonly: true, fileMustExist: true });
const query = new DepartureQuery(db);
let meta: ImportMeta | undefined;
let metaGeneration = -1;

function answer(request: DepartureRequest): DepartureThreadMessage {
  try {
    if (request.generation !== metaGeneration) {
      meta = readImportMeta(db);
      metaGeneration = request.generation;
    }
    const { id, stopId, fromEpoch, untilEpoch, limit } = request;
    const departures = meta ? query.departures(meta, stopId, fromEpoch, untilEpoch, limit) : [];
    return { kind: 'answer', id, departures: toColumns(departures) };
  } catch (err) {
    return { kind: 'failed', id: request.id, message: (err as Error).message };
  }
}

port.on('message', (request: DepartureRequest) => {
  const message = answer(request);
  port.postMessage(message, message.kind === 'answer' ? columnBuffers(message.departures) : []);
});
port.postMessage({ kind: 'ready' } satisfies DepartureThreadMessage);
