/**
 * The timetable lives in a SQLite file of its own, beside the manager's state:
 * it is derived data (rebuilt from a feed at any time), written only by the
 * import process and read by the manager, and its size follows the city's
 * feed rather than its fleet.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export function openTimetableDatabase(dataDir: string): Database.Database {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'timetable.db'), { timeout: 30_000 });
  // WAL: the manager keeps reading the old timetable while an import writes the new one.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}
