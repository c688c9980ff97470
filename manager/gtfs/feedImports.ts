/**
 * Timetable replacement as the rest of the manager sees it: the feed is
 * imported in a child process from a file, then the timetable is reloaded.
 * Uploads take one slot, so a second upload during an import gets 409.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { BackgroundImporter, StopGuard } from './backgroundImport';
import { checkGtfsZip } from './importer';
import type { ImportLimits } from './importLimits';
import type { ImportSummary } from './types';

export class FeedImports {
  private uploading = false;

  constructor(
    private readonly importer: BackgroundImporter,
    /** What reads the timetable: told when the child committed a new feed. */
    private readonly schedule: { reload(): void },
    private readonly logger: Logger,
    /** Where uploads are written before they are imported. */
    readonly uploadDir: string,
    private readonly limits: ImportLimits,
  ) {}

  get maxUploadBytes(): number {
    return this.limits.maxUploadBytes;
  }

  /** Takes the one upload slot (false when another upload holds it); release() frees it. */
  reserve(): boolean {
    if (this.uploading) return false;
    this.uploading = true;
    return true;
  }

  release(): void {
    this.uploading = false;
  }

  /** Refuses a zip whose directory passes a limit (a bomb), reading nothing else. */
  check(zipPath: string): Promise<void> {
    return checkGtfsZip(zipPath, this.limits);
  }

  /**
   * Imports a feed held in memory (from the shared store, or an upload already
   * checked): written to a file, imported by the child, removed. Rejects with
   * ImportLimitError, StopsDroppedError or GtfsImportError; the previous
   * timetable then stays.
   */
  async importBytes(
    bytes: Uint8Array,
    source: string,
    guard: StopGuard = {},
  ): Promise<ImportSummary> {
    fs.mkdirSync(this.uploadDir, { recursive: true });
    const file = path.join(this.uploadDir, `${randomUUID()}.zip`);
    // Written off the event loop: a city's feed is tens of megabytes.
    await fs.promises.writeFile(file, bytes);
    try {
      return this.done(await this.importer.import(file, source, guard));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  private done(summary: ImportSummary): ImportSummary {
    this.schedule.reload();
    this.logger.info({ ...summary, warnings: summary.warnings.length }, 'imported GTFS feed');
    return summary;
  }
}
