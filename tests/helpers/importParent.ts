/**
 * A stand-in for the manager as the import process sees it: starts one
 * background import of the zip given on the command line and waits for it.
 * Tests kill this process to see what becomes of its import child.
 * Usage: importParent.ts <dir> <zip>
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { BackgroundImporter } from '../../manager/gtfs/backgroundImport';
import { GtfsStore } from '../../manager/gtfs/gtfsStore';
import { DEFAULT_IMPORT_LIMITS } from '../../manager/gtfs/importLimits';

const [dir, zip] = process.argv.slice(2);
if (!dir || !zip) throw new Error('usage: importParent.ts <dir> <zip>');
const dbPath = path.join(dir, 'gtfs.db');
const db = new Database(dbPath);
new GtfsStore(db).init();
db.close();
const importer = new BackgroundImporter(dbPath, DEFAULT_IMPORT_LIMITS);
importer.import(zip, 'orphan-test').then(
  (summary) => console.log(`imported ${summary.stopTimes} stop_times`),
  (err: unknown) => console.log(`import failed: ${String(err)}`),
);
