/**
 * Keeps this manager's timetable on the feed in force in the shared store.
 * The shared store records each imported feed (its zip and summary); every
 * manager builds its own SQLite copy from it, so departure queries stay local
 * and fast whichever engine holds the fleet's state. A manager that imports a
 * feed records it; the others see a newer version when they next look.
 */
import type { Logger } from 'pino';
import type { ImportSummary } from '../gtfs/types';
import { FeedTooLargeError, type FeedVersionRepository } from '../store/feedVersionRepository';
import type { TimetableOrigin } from './timetableOrigin';

export interface FeedSyncOptions {
  versions: FeedVersionRepository;
  origin: TimetableOrigin;
  /** Replaces the local timetable with the feed in the zip; rejects (keeping the old one) on a bad feed. */
  buildTimetable(bytes: Uint8Array, source: string): Promise<ImportSummary>;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
}

export class FeedSync {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** A version this manager could not build: not tried again until a newer one is recorded. */
  private failedVersion: number | undefined;

  constructor(private readonly options: FeedSyncOptions) {}

  /**
   * Builds the local timetable from the version in force when it was built
   * from another one. Resolves true when the timetable changed.
   */
  catchUp(): Promise<boolean> {
    return this.serially(async () => {
      const { versions, origin, logger } = this.options;
      const latest = await versions.latest();
      if (!latest || latest.versionId === origin.get() || latest.versionId === this.failedVersion) {
        return false;
      }
      try {
        const bytes = await versions.bytes(latest.versionId);
        // Dropped between the two reads: a newer version exists, the next look finds it.
        if (!bytes) return false;
        await this.options.buildTimetable(bytes, latest.source);
      } catch (err) {
        this.failedVersion = latest.versionId;
        logger.error(
          { versionId: latest.versionId, err: (err as Error).message },
          'could not build the timetable from the feed in the shared store; keeping the current one',
        );
        return false;
      }
      origin.set(latest.versionId, latest.sha256);
      logger.info(
        { versionId: latest.versionId, source: latest.source },
        'timetable built from the feed in the shared store',
      );
      return true;
    });
  }

  /**
   * A new feed for the whole fleet: the local import checks it (a bad feed
   * changes nothing), then the shared store records it as the version in force.
   */
  importNew(bytes: Uint8Array, source: string): Promise<ImportSummary> {
    return this.serially(async () => {
      const { versions, origin } = this.options;
      if (bytes.byteLength > versions.maxFeedBytes) {
        throw new FeedTooLargeError(bytes.byteLength, versions.maxFeedBytes);
      }
      const summary = await this.options.buildTimetable(bytes, source);
      const version = await versions.record({
        bytes,
        source,
        summary,
        recordedAt: Math.floor(this.options.clock() / 1000),
      });
      origin.set(version.versionId, version.sha256);
      return summary;
    });
  }

  /** Looks for a newer feed every `intervalSeconds`; `onPickedUp` runs after the timetable changed. */
  start(intervalSeconds: number, onPickedUp: () => Promise<void>): void {
    this.timer = setInterval(() => {
      void this.catchUp()
        .then((changed) => (changed ? onPickedUp() : undefined))
        .catch((err: unknown) => {
          this.options.logger.warn(
            { err: (err as Error).message },
            'could not look for a new feed in the shared store; will retry',
          );
        });
    }, intervalSeconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => undefined);
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
