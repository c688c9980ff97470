/** Runs GTFS imports on a worker thread, one at a time. */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { GtfsImportError } from './errors';
import { StopsDroppedError, type SignAtStop } from './feedChecks';
import type { ImportJob, ImportOutcome } from './importWorker';
import type { ImportSummary } from './types';

const workerEntry = new URL('./importWorker.ts', import.meta.url).href;
const tsxApi = esmEntryOf('tsx', './esm/api');

/**
 * Node 20 does not apply `--import` loaders to a worker's own entry module, so the
 * worker first registers tsx through its API, then imports the TypeScript entry.
 */
const bootstrap = `import(${JSON.stringify(tsxApi)})
  .then(({ register }) => { register(); return import(${JSON.stringify(workerEntry)}); })`;

/** File URL of a package subpath's ESM build, read from the package's own exports map. */
function esmEntryOf(packageName: string, subpath: string): string {
  const manifestPath = createRequire(import.meta.url).resolve(`${packageName}/package.json`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const target = manifest.exports[subpath]?.import.default;
  if (!target) throw new Error(`${packageName} has no ESM export ${subpath}`);
  return pathToFileURL(path.join(path.dirname(manifestPath), target)).href;
}

export class BackgroundImporter {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dbPath: string) {}

  /**
   * Resolves with the summary once the new feed is committed; rejects with
   * GtfsImportError (StopsDroppedError when it would take signs' stops away).
   */
  import(
    bytes: Uint8Array,
    source: string,
    guard: { signsInUse?: SignAtStop[]; force?: boolean } = {},
  ): Promise<ImportSummary> {
    const next = this.queue.then(() =>
      this.runWorker({ dbPath: this.dbPath, bytes, source, ...guard }),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  private runWorker(job: ImportJob): Promise<ImportSummary> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(bootstrap, { eval: true, workerData: job });
      let settled = false;
      worker.once('message', (outcome: ImportOutcome) => {
        settled = true;
        if (outcome.ok) resolve(outcome.summary);
        else if (outcome.droppedSigns) reject(new StopsDroppedError(outcome.droppedSigns));
        else reject(new GtfsImportError(outcome.message));
      });
      worker.once('error', (err) => {
        settled = true;
        reject(err);
      });
      worker.once('exit', (code) => {
        if (!settled) reject(new Error(`GTFS import worker exited with code ${code}`));
      });
    });
  }
}
