/** Timetable replacement as the rest of the manager sees it: one import at a time, then reload. */
import type { Logger } from 'pino';
import type { BackgroundImporter } from './backgroundImport';
import type { GtfsStore } from './gtfsStore';
import type { ImportSummary } from './types';

export class FeedImports {
  constructor(
    private readonly importer: BackgroundImporter,
    private readonly schedule: GtfsStore,
    private readonly logger: Logger,
    /** Where uploads are written before they are imported. */
    readonly uploadDir: string,
    readonly maxUploadBytes: number,
  ) {}

  /** Takes the one import slot (false when taken); importReserved() or release() frees it. */
  reserve(): boolean {
    return this.importer.reserve();
  }

  release(): void {
    this.importer.release();
  }

  /** Imports from a file; rejects with ImportBusyError, ImportLimitError or GtfsImportError. */
  async importFile(zipPath: string, source: string): Promise<ImportSummary> {
    return this.done(await this.importer.import(zipPath, source));
  }

  async importReserved(zipPath: string, source: string): Promise<ImportSummary> {
    return this.done(await this.importer.importReserved(zipPath, source));
  }

  private done(summary: ImportSummary): ImportSummary {
    this.schedule.reload();
    this.logger.info({ ...summary, warnings: summary.warnings.length }, 'imported GTFS feed');
    return summary;
  }
}
