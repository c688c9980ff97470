/** The feed version repository's contract, on SQLite and on a real PostgreSQL. */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import type { ImportSummary } from '../manager/gtfs/types';
import { FeedTooLargeError } from '../manager/store/feedVersionRepository';
import { describeEachEngine } from './helpers/storeEngines';

function summary(source: string): ImportSummary {
  return {
    source,
    importedAt: 1_700_000_000,
    agencies: 1,
    routes: 2,
    stops: 3,
    trips: 4,
    stopTimes: 5,
    serviceStart: '20260101',
    serviceEnd: '20261231',
    warnings: ['stop_times.txt line 12: bad time'],
    durationMs: 42,
  };
}

// Small pieces, so a few kilobytes already span many rows and more than one read.
const feedLimits = { versionsKept: 2, maxFeedBytes: 64 * 1024, chunkBytes: 1000 };

describeEachEngine('feed version repository', ({ freshStore }) => {
  it('has no version before the first import', async () => {
    const { feedVersions } = await freshStore({ feedLimits });
    expect(await feedVersions.latest()).toBeUndefined();
    expect(await feedVersions.list()).toEqual([]);
  });

  it('gives back the zip byte for byte and the summary of its import', async () => {
    const { feedVersions } = await freshStore({ feedLimits });
    const bytes = randomBytes(20_500);
    const recorded = await feedVersions.record({
      bytes,
      source: 'upload',
      summary: summary('upload'),
      recordedAt: 1_700_000_100,
    });
    expect(recorded).toMatchObject({ source: 'upload', byteLength: 20_500 });
    expect(recorded.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await feedVersions.latest()).toEqual(recorded);
    const back = await feedVersions.bytes(recorded.versionId);
    expect(back && Buffer.compare(Buffer.from(back), bytes)).toBe(0);
  });

  it('makes the newest recorded feed the one in force and keeps only the newest few', async () => {
    const { feedVersions } = await freshStore({ feedLimits });
    const ids: number[] = [];
    for (const source of ['first', 'second', 'third']) {
      const v = await feedVersions.record({
        bytes: Buffer.from(source),
        source,
        summary: summary(source),
        recordedAt: 1,
      });
      ids.push(v.versionId);
    }
    expect(ids[1]).toBeGreaterThan(ids[0] ?? Infinity);
    expect(ids[2]).toBeGreaterThan(ids[1] ?? Infinity);
    expect((await feedVersions.latest())?.source).toBe('third');
    expect((await feedVersions.list()).map((v) => v.source)).toEqual(['third', 'second']);
    expect(await feedVersions.bytes(ids[0] ?? 0)).toBeUndefined();
    expect(Buffer.from((await feedVersions.bytes(ids[1] ?? 0)) ?? []).toString()).toBe('second');
  });

  it('refuses a feed over the size bound and keeps the one in force', async () => {
    const { feedVersions } = await freshStore({ feedLimits });
    await feedVersions.record({
      bytes: Buffer.from('small'),
      source: 'small',
      summary: summary('small'),
      recordedAt: 1,
    });
    const tooBig = feedVersions.record({
      bytes: Buffer.alloc(feedLimits.maxFeedBytes + 1),
      source: 'big',
      summary: summary('big'),
      recordedAt: 2,
    });
    await expect(tooBig).rejects.toThrow(FeedTooLargeError);
    await expect(tooBig).rejects.toThrow(/65537 bytes/);
    expect((await feedVersions.latest())?.source).toBe('small');
  });
});
