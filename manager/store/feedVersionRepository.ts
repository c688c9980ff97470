/**
 * Imported GTFS feeds, shared by every manager: which version is in force and
 * the zip it came from. Each manager builds its own read-optimised timetable
 * from these bytes; the store only keeps the newest few versions.
 */
import type { ImportSummary } from '../gtfs/types';

export interface FeedVersion {
  /** Grows with every recorded feed: the highest is the one in force. */
  versionId: number;
  sha256: string;
  source: string;
  byteLength: number;
  recordedAt: number;
  summary: ImportSummary;
}

export interface NewFeedVersion {
  bytes: Uint8Array;
  source: string;
  summary: ImportSummary;
  recordedAt: number;
}

export interface FeedVersionRepository {
  /** The most bytes one feed may have; record() refuses more. */
  readonly maxFeedBytes: number;
  /** Stores the feed as the newest version and drops versions past the newest few. */
  record(feed: NewFeedVersion): Promise<FeedVersion>;
  /** The version in force, without its bytes; undefined before the first import. */
  latest(): Promise<FeedVersion | undefined>;
  /** The zip of a kept version; undefined once it has been dropped. */
  bytes(versionId: number): Promise<Uint8Array | undefined>;
  /** The kept versions, newest first. */
  list(): Promise<FeedVersion[]>;
}

export class FeedTooLargeError extends Error {
  constructor(byteLength: number, maxFeedBytes: number) {
    super(
      `the feed is ${byteLength} bytes; the store keeps feeds of at most ${maxFeedBytes} bytes`,
    );
  }
}
