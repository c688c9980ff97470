/** GTFS import and the departure query the manager runs for every stop. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { printFigures, timePerCall, type Figure } from './measure';

const HALIFAX = path.resolve(import.meta.dirname, '../../shared/data/gtfs/halifax-2025.zip');

async function benchFeed(
  label: string,
  bytes: Uint8Array,
  stopId: string,
  at: number,
): Promise<Figure[]> {
  const db = new Database(':memory:');
  const store = new GtfsStore(db);
  store.init();
  const started = performance.now();
  await store.importZip(bytes, label);
  const importMs = performance.now() - started;
  const query = timePerCall(() => store.departures(stopId, at, at + 2 * 3600, 5000), 50);
  const rows = store.departures(stopId, at, at + 2 * 3600, 5000).length;
  const slice = timePerCall(() => store.departures(stopId, at, at + 30 * 3600, 5000), 10);
  // One publishing pass of the manager: the next 8 arrivals of every stop in the feed.
  const stopIds = db
    .prepare<[], { stop_id: string }>('SELECT stop_id FROM gtfs_stops')
    .all()
    .map((r) => r.stop_id);
  const pass = timePerCall(
    () => {
      for (const id of stopIds) store.departures(id, at, at + 3 * 3600, 8);
    },
    1,
    1,
  );
  db.close();
  return [
    { name: `${label}: import`, value: importMs, unit: 'ms' },
    { name: `${label}: departures, 2 h window (${rows} rows)`, value: query, unit: 'ms' },
    { name: `${label}: 30 h offline slice for one sign`, value: slice, unit: 'ms' },
    {
      name: `${label}: arrivals for all ${stopIds.length} stops (one pass)`,
      value: pass,
      unit: 'ms',
      baseline: { name: 'one stop ×N', value: query * stopIds.length },
    },
  ];
}

export async function benchGtfs(): Promise<void> {
  const tinyAt = DateTime.fromISO('2026-03-02T08:00', { zone: 'Asia/Hong_Kong' }).toSeconds();
  const figures = await benchFeed('tiny fixture', tinyGtfsZip(), STOP_CENTRAL, tinyAt);
  if (fs.existsSync(HALIFAX)) {
    const at = DateTime.fromISO('2025-11-06T17:00', { zone: 'America/Halifax' }).toSeconds();
    const before = process.memoryUsage().rss;
    figures.push(
      ...(await benchFeed('halifax-2025 (328k stop_times)', fs.readFileSync(HALIFAX), '6121', at)),
    );
    figures.push({
      name: 'halifax-2025: RSS growth of the process',
      value: (process.memoryUsage().rss - before) / 2 ** 20,
      unit: 'MiB',
    });
  } else {
    console.log('\n(halifax-2025.zip not found beside the project: real-feed figures skipped)');
  }
  printFigures('GTFS schedule', figures);
}
