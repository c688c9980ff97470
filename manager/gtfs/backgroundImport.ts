/**
 * Runs GTFS imports in a child process, one at a time. The child has a capped
 * heap and a deadline; if it dies (out of memory, killed, crashed) only the
 * import fails, with the reason, and the previous timetable stays in force.
 */
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GtfsImportError } from './errors';
import { StopsDroppedError, type SignAtStop } from './feedChecks';
import { checkGtfsZip } from './importer';
import { ImportLimitError, type ImportLimits } from './importLimits';
import type { ImportJob, ImportOutcome } from './importChild';
import type { ImportSummary } from './types';

const childEntry = new URL('./importChild.ts', import.meta.url);
/** tsx's loader, by absolute URL: the child may start in any working directory. */
const tsxLoader = pathToFileURL(
  path.join(
    path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
    'dist/loader.mjs',
  ),
).href;

/** Another import is running: the caller should try again later (HTTP 409). */
export class ImportBusyError extends Error {
  override name = 'ImportBusyError';
}

/** Signs whose stops the new feed must keep, unless forced. */
export interface StopGuard {
  signsInUse?: SignAtStop[];
  force?: boolean;
}

/** Stderr kept from the child, enough to say why it died. */
const STDERR_TAIL = 4096;
const OUT_OF_MEMORY = /heap out of memory|Allocation failed/i;
/** Enough of the previous chunk that a marker split across two chunks is still seen. */
const OOM_MARK_SPAN = 64;

export class BackgroundImporter {
  private running = false;

  constructor(
    private readonly dbPath: string,
    private readonly limits: ImportLimits,
  ) {}

  /**
   * Resolves with the summary once the new feed is committed. Rejects with
   * ImportBusyError while another import runs, ImportLimitError for a feed past
   * the limits, StopsDroppedError when it would take signs' stops away (unless
   * forced), GtfsImportError for one that cannot be used or killed the import.
   */
  async import(zipPath: string, source: string, guard: StopGuard = {}): Promise<ImportSummary> {
    if (this.running) throw new ImportBusyError('another timetable import is running');
    this.running = true;
    try {
      // The zip's directory alone refuses a bomb, before any process is started.
      await checkGtfsZip(zipPath, this.limits);
      return await this.runChild({
        dbPath: this.dbPath,
        zipPath,
        source,
        limits: this.limits,
        ...guard,
      });
    } finally {
      this.running = false;
    }
  }

  private runChild(job: ImportJob): Promise<ImportSummary> {
    const { importHeapMb, maxImportSeconds } = this.limits;
    return new Promise((resolve, reject) => {
      const child = fork(childEntry, [], {
        execArgv: [
          '--import',
          tsxLoader,
          `--max-old-space-size=${importHeapMb}`,
          `--max-semi-space-size=${semiSpaceMb(importHeapMb)}`,
        ],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      let stderr = '';
      // V8 names the heap exhaustion first and then prints a long native backtrace, so
      // the verdict is taken as the text streams by, not from the tail kept for the message.
      let outOfMemory = false;
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        const seen = stderr.slice(-OOM_MARK_SPAN) + text;
        if (OUT_OF_MEMORY.test(seen)) outOfMemory = true;
        stderr = (stderr + text).slice(-STDERR_TAIL);
      });
      let outcome: ImportOutcome | undefined;
      let timedOut = false;
      const deadline = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, maxImportSeconds * 1000);
      child.once('message', (message: ImportOutcome) => {
        outcome = message;
      });
      child.once('error', (err) => {
        clearTimeout(deadline);
        reject(new GtfsImportError(`the import process could not run: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(deadline);
        if (outcome?.ok) return resolve(outcome.summary);
        if (outcome?.droppedSigns) return reject(new StopsDroppedError(outcome.droppedSigns));
        if (outcome) {
          const Failure = outcome.kind === 'limit' ? ImportLimitError : GtfsImportError;
          return reject(new Failure(outcome.message));
        }
        if (timedOut) {
          return reject(
            new ImportLimitError(
              `the import took longer than ${maxImportSeconds} s and was stopped`,
            ),
          );
        }
        reject(new GtfsImportError(deathReason(code, signal, stderr, outOfMemory, importHeapMb)));
      });
      child.send(job);
    });
  }
}

/**
 * V8's young generation sits beside the old space and by default (16 MiB per
 * semi-space) could outgrow a small cap: keep it a sixteenth of the heap, so the
 * cap is what the process really gets and a runaway feed meets it promptly.
 */
function semiSpaceMb(heapMb: number): number {
  return Math.max(1, Math.min(16, Math.floor(heapMb / 16)));
}

function deathReason(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
  outOfMemory: boolean,
  heapMb: number,
): string {
  if (outOfMemory) {
    return `the import ran out of memory (heap limit ${heapMb} MiB) and was stopped`;
  }
  const last = stderr.trim().split('\n').slice(-1)[0] ?? '';
  return `the import process died (${signal ?? `exit code ${code}`})${last ? `: ${last}` : ''}`;
}
