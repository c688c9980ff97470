/**
 * Each manager's timetable follows the feed in force in the shared store:
 * built from the recorded zip, rebuilt when a newer one is recorded, and left
 * alone when a feed is bad or cannot be built here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { FeedTooLargeError } from '../manager/store/feedVersionRepository';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { FeedSync } from '../manager/timetable/feedSync';
import { TimetableOrigin } from '../manager/timetable/timetableOrigin';
import { tinyGtfsFiles, tinyGtfsZip, zipGtfs } from './helpers/gtfsFixture';
import { quietLogger } from './helpers/system';

function feedWithNewStop(): Uint8Array {
  const files = tinyGtfsFiles();
  files['stops.txt'] = `${files['stops.txt']?.trimEnd()}\nNEW,New Pier,22.29,114.17,0\n`;
  return zipGtfs(files);
}

describe('timetable from the shared store', () => {
  let dir: string;
  let store: SharedStore;
  const opened: Database.Database[] = [];

  /** One manager's side: its own timetable file and the sync, on the shared store. */
  function managerSide(name: string) {
    const db = new Database(path.join(dir, `${name}-timetable.db`));
    opened.push(db);
    const schedule = new GtfsStore(db);
    schedule.init();
    const origin = new TimetableOrigin(db);
    origin.init();
    const builds: string[] = [];
    const sync = new FeedSync({
      versions: store.feedVersions,
      origin,
      buildTimetable: async (bytes, source) => {
        builds.push(source);
        return schedule.importZip(bytes, source);
      },
      clock: Date.now,
      logger: quietLogger,
    });
    return { schedule, origin, sync, builds };
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-feedsync-'));
    store = await openSharedStore(
      { engine: 'sqlite', file: path.join(dir, 'manager.db') },
      { feedLimits: { versionsKept: 3, maxFeedBytes: 64 * 1024, chunkBytes: 4096 } },
    );
  });

  afterEach(async () => {
    for (const db of opened.splice(0)) db.close();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records an imported feed and builds another manager’s timetable from it', async () => {
    const a = managerSide('a');
    const b = managerSide('b');
    await a.sync.importNew(tinyGtfsZip(), 'first');
    const first = await store.feedVersions.latest();
    expect(a.origin.get()).toBe(first?.versionId);
    expect(await b.sync.catchUp()).toBe(true);
    expect(b.schedule.summary()).toMatchObject({ source: 'first', stops: 6 });
    expect(b.origin.get()).toBe(first?.versionId);
    // Nothing newer: nothing rebuilt.
    expect(await b.sync.catchUp()).toBe(false);
    expect(await a.sync.catchUp()).toBe(false);

    await a.sync.importNew(feedWithNewStop(), 'second');
    expect(await b.sync.catchUp()).toBe(true);
    expect(b.schedule.stop('NEW')?.name.en).toBe('New Pier');
    expect(b.builds).toEqual(['first', 'second']);
    expect(a.builds).toEqual(['first', 'second']);
  });

  it('records nothing for a feed that does not import, and keeps the timetable', async () => {
    const a = managerSide('a');
    await a.sync.importNew(tinyGtfsZip(), 'good');
    const files = tinyGtfsFiles();
    delete files['stop_times.txt'];
    await expect(a.sync.importNew(zipGtfs(files), 'bad')).rejects.toThrow(/stop_times\.txt/);
    expect((await store.feedVersions.latest())?.source).toBe('good');
    expect(a.schedule.summary()?.source).toBe('good');
  });

  it('refuses a feed over the store’s bound before importing it', async () => {
    const a = managerSide('a');
    const huge = new Uint8Array(64 * 1024 + 1);
    await expect(a.sync.importNew(huge, 'huge')).rejects.toThrow(FeedTooLargeError);
    expect(a.builds).toEqual([]);
    expect(await store.feedVersions.latest()).toBeUndefined();
  });

  it('keeps its timetable when the recorded feed cannot be built here, and does not retry it', async () => {
    const a = managerSide('a');
    await a.sync.importNew(tinyGtfsZip(), 'good');
    // Recorded by a manager whose importer accepted it; this one refuses it.
    await store.feedVersions.record({
      bytes: Buffer.from('not a zip at all'),
      source: 'unreadable',
      summary: { ...(a.schedule.summary() ?? ({} as never)), source: 'unreadable' },
      recordedAt: 1,
    });
    expect(await a.sync.catchUp()).toBe(false);
    expect(await a.sync.catchUp()).toBe(false);
    expect(a.builds).toEqual(['good', 'unreadable']);
    expect(a.schedule.summary()?.source).toBe('good');
  });
});
