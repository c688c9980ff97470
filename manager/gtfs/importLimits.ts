/**
 * How much a GTFS upload may cost. A feed is refused as soon as one limit is
 * passed, while it streams, so a zip bomb costs milliseconds and kilobytes
 * rather than the manager. The defaults fit a city of 20 million stop_times.
 */
import { GtfsImportError } from './errors';

export interface ImportLimits {
  /** The zip as uploaded. */
  maxUploadBytes: number;
  /** Entries in the zip's central directory. */
  maxEntries: number;
  /** One file, inflated. */
  maxFileBytes: number;
  /** All files the importer reads, inflated. */
  maxTotalBytes: number;
  /** Inflated size over compressed size, per entry: real feeds run 2-15, bombs 400 and more. */
  maxCompressionRatio: number;
  maxStopTimesRows: number;
  /** Every other file, whose rows are held in memory while the feed is read. */
  maxRowsPerFile: number;
  maxImportSeconds: number;
  /** V8 heap of the import process: past it only the import dies. */
  importHeapMb: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  // The shared store keeps feeds of up to 256 MiB.
  maxUploadBytes: 256 * MiB,
  maxEntries: 1000,
  maxFileBytes: 4096 * MiB,
  maxTotalBytes: 6144 * MiB,
  maxCompressionRatio: 100,
  maxStopTimesRows: 30_000_000,
  maxRowsPerFile: 3_000_000,
  maxImportSeconds: 900,
  importHeapMb: 1024,
};

/** A limit was passed: the feed is too big to be taken, not broken (HTTP 413). */
export class ImportLimitError extends GtfsImportError {
  override name = 'ImportLimitError';
}

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(bytes < MiB ? 3 : 0)} MiB`;
}
