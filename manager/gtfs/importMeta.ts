/** The summary of the stored import, kept in the database so it survives a restart. */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import type { ImportSummary } from './types';

export const importSummarySchema = z.object({
  source: z.string(),
  importedAt: z.number(),
  agencies: z.number(),
  routes: z.number(),
  stops: z.number(),
  trips: z.number(),
  stopTimes: z.number(),
  serviceStart: z.string(),
  serviceEnd: z.string(),
  warnings: z.array(z.string()),
  durationMs: z.number(),
}) satisfies z.ZodType<ImportSummary>;

export interface ImportMeta {
  summary: ImportSummary;
  /** The zone GTFS times count in. */
  timezone: string;
  /** Latest departure, seconds after service-day start; bounds how far back a query looks. */
  maxDeparture: number;
}

const metaRow = z.object({
  summary_json: z.string(),
  timezone: z.string(),
  max_departure: z.number(),
});

export function readImportMeta(db: Database): ImportMeta | undefined {
  const row = db
    .prepare('SELECT summary_json, timezone, max_departure FROM gtfs_import WHERE id = 1')
    .get();
  if (row === undefined) return undefined;
  const stored = metaRow.safeParse(row);
  const summary = stored.success ? parseSummary(stored.data.summary_json) : undefined;
  // An unreadable record means no usable schedule until the next import, not a manager that cannot start.
  if (!stored.success || !summary) return undefined;
  return {
    summary,
    timezone: stored.data.timezone,
    maxDeparture: stored.data.max_departure,
  };
}

function parseSummary(json: string): ImportSummary | undefined {
  try {
    const parsed = importSummarySchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function writeImportMeta(db: Database, meta: ImportMeta): void {
  db.prepare(
    `INSERT INTO gtfs_import (id, summary_json, timezone, max_departure) VALUES (1, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET summary_json = excluded.summary_json,
       timezone = excluded.timezone, max_departure = excluded.max_departure`,
  ).run(JSON.stringify(meta.summary), meta.timezone, meta.maxDeparture);
}
