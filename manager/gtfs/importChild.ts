/**
 * Entry of the import process. An import runs in a process of its own, with
 * its own database connection and a capped V8 heap, so whatever a feed does to
 * it (even a fatal out-of-memory) ends only the import: the manager and its
 * embedded broker keep serving, and the previous timetable stays in force.
 */
import Database from 'better-sqlite3';
import { GtfsImportError } from './errors';
import { refuseDroppedStops, StopsDroppedError, type SignAtStop } from './feedChecks';
import { ImportLimitError, type ImportLimits } from './importLimits';
import { GtfsStore } from './gtfsStore';
import type { ImportSummary } from './types';

export interface ImportJob {
  dbPath: string;
  zipPath: string;
  source: string;
  limits: ImportLimits;
  /** Signs whose stops the new feed must keep, unless forced. */
  signsInUse?: SignAtStop[];
  force?: boolean;
}

export type ImportOutcome =
  | { ok: true; summary: ImportSummary }
  | {
      ok: false;
      message: string;
      kind: 'refused' | 'limit' | 'failed';
      droppedSigns?: SignAtStop[];
    };

async function run(job: ImportJob): Promise<ImportOutcome> {
  const db = new Database(job.dbPath, { timeout: 30_000 });
  try {
    // Pages spill to the journal and sorts to temporary files: memory stays flat.
    db.pragma('cache_size = -32768');
    const store = new GtfsStore(db);
    store.init();
    const summary = await store.importZip(job.zipPath, job.source, job.limits, (feed) =>
      refuseDroppedStops(
        feed.stops.map((s) => s.stopId),
        job.signsInUse ?? [],
        job.force ?? false,
      ),
    );
    return { ok: true, summary };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof StopsDroppedError) {
      return { ok: false, message, kind: 'refused', droppedSigns: err.signs };
    }
    const kind =
      err instanceof ImportLimitError
        ? 'limit'
        : err instanceof GtfsImportError
          ? 'refused'
          : 'failed';
    return { ok: false, message, kind };
  } finally {
    db.close();
  }
}

// The manager is gone (crashed, killed): nobody waits for this import, so it ends too.
process.once('disconnect', () => process.exit(1));

process.once('message', (job: ImportJob) => {
  void run(job).then((outcome) => {
    process.send?.(outcome, () => process.exit(0));
  });
});
