/**
 * The importer refuses what would cost too much while it streams: bombs by
 * their ratio or by lying headers, files and feeds past their size, tables past
 * their row count, zips of too many entries. Each refusal keeps the previous
 * timetable, and a feed whose trips are not listed together still imports.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import {
  DEFAULT_IMPORT_LIMITS,
  ImportLimitError,
  type ImportLimits,
} from '../manager/gtfs/importLimits';
import {
  STOP_CENTRAL,
  TINY_COUNTS,
  TINY_TIMEZONE,
  tinyGtfsFiles,
  tinyGtfsZip,
  zipGtfs,
} from './helpers/gtfsFixture';
import { writeZipBomb } from './helpers/syntheticFeeds';

let dir: string;
let db: Database.Database;
let store: GtfsStore;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-limits-'));
  db = new Database(path.join(dir, 'timetable.db'));
  store = new GtfsStore(db);
  store.init();
  await store.importZip(tinyGtfsZip(), 'tiny');
});

afterEach(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const morning = DateTime.fromISO('2025-06-11T08:03', { zone: TINY_TIMEZONE }).toSeconds();

async function refusal(
  input: string | Uint8Array,
  limits: Partial<ImportLimits> = {},
): Promise<Error> {
  const before = store.departures(STOP_CENTRAL, morning, morning + 7200);
  const error = await store
    .importZip(input, 'attack', { ...DEFAULT_IMPORT_LIMITS, ...limits })
    .then(
      () => undefined,
      (err: unknown) => err as Error,
    );
  if (!error) throw new Error('the feed was accepted');
  // Whatever was refused, the timetable before it is still the one in force.
  expect(store.summary()).toMatchObject({ source: 'tiny', ...TINY_COUNTS });
  expect(store.departures(STOP_CENTRAL, morning, morning + 7200)).toEqual(before);
  return error;
}

describe('import limits', () => {
  it('refuses a 5 MB zip that inflates to 2 GiB by its compression ratio', async () => {
    const bomb = path.join(dir, 'bomb.zip');
    const { bytes, inflated } = writeZipBomb(bomb, 2 * 1024 ** 3);
    expect(bytes).toBeLessThan(6 * 1024 ** 2);
    expect(inflated).toBeGreaterThan(2 * 1000 ** 3);
    const error = await refusal(bomb);
    expect(error).toBeInstanceOf(ImportLimitError);
    expect(error.message).toMatch(/^stop_times\.txt would inflate \d+:1 .* refused as a zip bomb$/);
  });

  it('cuts off a bomb whose headers lie about its size', async () => {
    const bomb = path.join(dir, 'liar.zip');
    writeZipBomb(bomb, 256 * 1024 ** 2, { lie: true });
    const error = await refusal(bomb, { maxCompressionRatio: 1e6 });
    expect(error).toBeInstanceOf(ImportLimitError);
    expect(error.message).toMatch(/^stop_times\.txt inflates past the .*its header declares/);
  });

  it('refuses a file, and a feed, past its inflated size', async () => {
    const tiny = tinyGtfsZip();
    expect((await refusal(tiny, { maxFileBytes: 8 * 1024 })).message).toMatch(
      /^stop_times\.txt inflates to .* MiB; at most 0\.008 MiB per file$/,
    );
    expect((await refusal(tiny, { maxTotalBytes: 12 * 1024 })).message).toMatch(
      /^the feed's files inflate to .*; at most 0\.012 MiB in total$/,
    );
  });

  it('refuses tables past their row limits and zips of too many entries', async () => {
    const tiny = tinyGtfsZip();
    expect((await refusal(tiny, { maxStopTimesRows: 100 })).message).toBe(
      'stop_times.txt has more than 100 rows',
    );
    expect((await refusal(tiny, { maxRowsPerFile: 50 })).message).toBe(
      'trips.txt has more than 50 rows',
    );
    const crowded: Record<string, string> = tinyGtfsFiles();
    for (let i = 0; i < 30; i++) crowded[`extra-${i}.txt`] = 'x\n';
    expect((await refusal(zipGtfs(crowded), { maxEntries: 20 })).message).toBe(
      'the zip has 39 entries; at most 20 are accepted',
    );
  });
});

describe('stop_times not grouped by trip', () => {
  it('imports the same timetable as the grouped file', async () => {
    const files = tinyGtfsFiles();
    const [header, ...rows] = (files['stop_times.txt'] ?? '').trimEnd().split('\n');
    // Every third row moved to the end: trips are split across the file.
    const shuffled = [
      header,
      ...rows.filter((_, i) => i % 3 !== 0),
      ...rows.filter((_, i) => i % 3 === 0),
    ];
    const grouped = store.departures(STOP_CENTRAL, morning, morning + 86_400);
    const summary = await store.importZip(
      zipGtfs({ ...files, 'stop_times.txt': shuffled.join('\n') }),
      'shuffled',
    );
    expect(summary).toMatchObject({ warnings: [], ...TINY_COUNTS });
    expect(store.departures(STOP_CENTRAL, morning, morning + 86_400)).toEqual(grouped);
  });
});
