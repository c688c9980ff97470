/**
 * Opens this manager's own timetable file: a read-optimised SQLite copy of the
 * feed in force, derived from the shared store and rebuilt from it when lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

export type TimetableDatabase = Database.Database;

export function openTimetableDatabase(dataDir: string): TimetableDatabase {
  fs.mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, 'timetable.db'));
  // WAL keeps departure queries unblocked while an import commits a new feed.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}
