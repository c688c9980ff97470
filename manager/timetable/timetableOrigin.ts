/**
 * Which shared-store feed version the local timetable was built from. Written
 * after the import commits: a crash in between only means one import again.
 */
import type { TimetableDatabase } from './timetableDatabase';

export class TimetableOrigin {
  constructor(private readonly db: TimetableDatabase) {}

  init(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS timetable_origin (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        feed_version_id INTEGER NOT NULL,
        sha256 TEXT NOT NULL
      )`);
  }

  /** The feed version id, undefined when the timetable came from no recorded version. */
  get(): number | undefined {
    const row = this.db
      .prepare<[], { feed_version_id: number }>(
        'SELECT feed_version_id FROM timetable_origin WHERE id = 1',
      )
      .get();
    return row?.feed_version_id;
  }

  set(versionId: number, sha256: string): void {
    this.db
      .prepare(
        `INSERT INTO timetable_origin (id, feed_version_id, sha256) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET feed_version_id = excluded.feed_version_id,
           sha256 = excluded.sha256`,
      )
      .run(versionId, sha256);
  }
}
