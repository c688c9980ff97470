/**
 * One GTFS import in a fresh process, for the import benchmark: prints
 * {"ms": …, "peakRssMiB": …}. `ours` is the manager's streaming importer,
 * `gtfs` the gtfs npm package importing the same file.
 *   tsx bench/importOne.ts ours|gtfs <feed.zip> <work dir>
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { DEFAULT_IMPORT_LIMITS } from '../manager/gtfs/importLimits';

const [mode, zipPath, workDir] = process.argv.slice(2);
if (!zipPath || !workDir || (mode !== 'ours' && mode !== 'gtfs')) {
  console.error('usage: tsx bench/importOne.ts ours|gtfs <feed.zip> <work dir>');
  process.exit(2);
}
fs.mkdirSync(workDir, { recursive: true });
const dbPath = path.join(workDir, `${mode}.db`);
fs.rmSync(dbPath, { force: true });
const started = performance.now();
if (mode === 'ours') {
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.pragma('cache_size = -32768');
  const store = new GtfsStore(db);
  store.init();
  await store.importZip(zipPath, 'bench', { ...DEFAULT_IMPORT_LIMITS, maxCompressionRatio: 1000 });
  db.close();
} else {
  const { importGtfs } = await import('gtfs');
  await importGtfs({ sqlitePath: dbPath, agencies: [{ path: zipPath }], verbose: false });
}
const ms = performance.now() - started;
console.log(JSON.stringify({ ms, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
