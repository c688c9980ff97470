import { createHash } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { importSummarySchema } from '../gtfs/importMeta';
import {
  FeedTooLargeError,
  type FeedVersion,
  type FeedVersionRepository,
  type NewFeedVersion,
} from './feedVersionRepository';
import type { FeedVersionsTable, StoreSchema } from './storeSchema';

export interface FeedVersionLimits {
  /** Versions whose bytes are kept: the one in force and the ones before it. */
  versionsKept: number;
  maxFeedBytes: number;
  /** Bytes per stored row, so no row or round trip carries a whole feed. */
  chunkBytes: number;
}

export const DEFAULT_FEED_LIMITS: FeedVersionLimits = {
  versionsKept: 3,
  // The same bound as an HTTP upload: any feed the manager accepted can be stored.
  maxFeedBytes: 256 * 1024 * 1024,
  chunkBytes: 1024 * 1024,
};

/** Chunks read per query while reassembling a feed. */
const CHUNKS_PER_READ = 8;

export class KyselyFeedVersionRepository implements FeedVersionRepository {
  readonly maxFeedBytes: number;

  constructor(
    private readonly db: Kysely<StoreSchema>,
    private readonly limits: FeedVersionLimits = DEFAULT_FEED_LIMITS,
  ) {
    this.maxFeedBytes = limits.maxFeedBytes;
  }

  async record(feed: NewFeedVersion): Promise<FeedVersion> {
    const { bytes } = feed;
    if (bytes.byteLength > this.limits.maxFeedBytes) {
      throw new FeedTooLargeError(bytes.byteLength, this.limits.maxFeedBytes);
    }
    const sha256 = await hashInSlices(bytes);
    return this.db.transaction().execute(async (trx) => {
      const { feed_version_id: versionId } = await trx
        .insertInto('feed_versions')
        .values({
          sha256,
          source: feed.source,
          byte_length: bytes.byteLength,
          recorded_at: feed.recordedAt,
          summary_json: JSON.stringify(feed.summary),
        })
        .returning('feed_version_id')
        .executeTakeFirstOrThrow();
      const { chunkBytes } = this.limits;
      for (let offset = 0, seq = 0; offset < bytes.byteLength; offset += chunkBytes, seq++) {
        const piece = bytes.subarray(offset, offset + chunkBytes);
        await trx
          .insertInto('feed_chunks')
          .values({
            feed_version_id: versionId,
            seq,
            bytes: Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength),
          })
          .execute();
        // SQLite runs each insert synchronously: let other work in between chunks.
        await yieldToEventLoop();
      }
      const dropped = trx
        .selectFrom('feed_versions')
        .select('feed_version_id')
        .orderBy('feed_version_id', 'desc')
        .offset(this.limits.versionsKept)
        .limit(1_000_000);
      // Ids first, then deletes by id: the same statements on both engines.
      const old = (await dropped.execute()).map((r) => r.feed_version_id);
      if (old.length > 0) {
        await trx.deleteFrom('feed_chunks').where('feed_version_id', 'in', old).execute();
        await trx.deleteFrom('feed_versions').where('feed_version_id', 'in', old).execute();
      }
      return {
        versionId,
        sha256,
        source: feed.source,
        byteLength: bytes.byteLength,
        recordedAt: feed.recordedAt,
        summary: feed.summary,
      };
    });
  }

  async latest(): Promise<FeedVersion | undefined> {
    const row = await this.db
      .selectFrom('feed_versions')
      .selectAll()
      .orderBy('feed_version_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? toVersion(row) : undefined;
  }

  async list(): Promise<FeedVersion[]> {
    const rows = await this.db
      .selectFrom('feed_versions')
      .selectAll()
      .orderBy('feed_version_id', 'desc')
      .execute();
    return rows.map(toVersion);
  }

  async bytes(versionId: number): Promise<Uint8Array | undefined> {
    const version = await this.db
      .selectFrom('feed_versions')
      .select(['byte_length', 'sha256'])
      .where('feed_version_id', '=', versionId)
      .executeTakeFirst();
    if (!version) return undefined;
    const whole = Buffer.alloc(version.byte_length);
    let filled = 0;
    for (let seq = 0; filled < whole.byteLength; seq += CHUNKS_PER_READ) {
      const rows = await this.db
        .selectFrom('feed_chunks')
        .select(['seq', 'bytes'])
        .where('feed_version_id', '=', versionId)
        .where('seq', '>=', seq)
        .where('seq', '<', seq + CHUNKS_PER_READ)
        .orderBy('seq')
        .execute();
      if (rows.length === 0) break;
      for (const row of rows) {
        row.bytes.copy(whole, filled);
        filled += row.bytes.byteLength;
      }
    }
    const sha256 = await hashInSlices(whole);
    if (filled !== version.byte_length || sha256 !== version.sha256) {
      throw new Error(
        `feed version ${versionId} is damaged in the store (${filled} of ${version.byte_length} bytes, checksum ${sha256 === version.sha256 ? 'ok' : 'mismatch'})`,
      );
    }
    return whole;
  }
}

function toVersion(row: Selectable<FeedVersionsTable>): FeedVersion {
  return {
    versionId: row.feed_version_id,
    sha256: row.sha256,
    source: row.source,
    byteLength: row.byte_length,
    recordedAt: row.recorded_at,
    summary: importSummarySchema.parse(JSON.parse(row.summary_json)),
  };
}

/** SHA-256 of a feed a few megabytes at a time, letting other work run between slices. */
async function hashInSlices(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  const slice = 4 * 1024 * 1024;
  for (let offset = 0; offset < bytes.byteLength; offset += slice) {
    hash.update(bytes.subarray(offset, offset + slice));
    await yieldToEventLoop();
  }
  return hash.digest('hex');
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
