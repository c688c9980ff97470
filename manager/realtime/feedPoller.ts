/**
 * Polls one GTFS-realtime URL. Conditional requests (If-None-Match /
 * If-Modified-Since) make an unchanged feed cost a 304 and nothing else; each
 * request has a timeout; failures back off exponentially, capped, with jitter
 * so a fleet of managers does not retry in step; API keys go in headers.
 */
import type { Logger } from 'pino';

export type PollOutcome =
  | { kind: 'changed'; bytes: Uint8Array }
  | { kind: 'not-modified' }
  | { kind: 'failed'; reason: string };

export interface FeedPollerOptions {
  url: string;
  /** Extra request headers, e.g. an API key. */
  headers: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  maxBackoffMs: number;
  logger: Logger;
  onOutcome: (outcome: PollOutcome) => void | Promise<void>;
  /** 0 ≤ x < 1; injectable so tests can pin the jitter. */
  random?: () => number;
}

/** Largest body accepted: a big city's TripUpdates are a few megabytes. */
export const MAX_REALTIME_FEED_BYTES = 64 * 1024 * 1024;

export class FeedPoller {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private etag: string | null = null;
  private lastModified: string | null = null;
  private failures = 0;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: FeedPollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** Consecutive failures so far; 0 after a success. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** Delay before the next poll: the interval, or a jittered, capped back-off after failures. */
  nextDelayMs(): number {
    const { intervalMs, maxBackoffMs } = this.options;
    if (this.failures === 0) return intervalMs;
    const ceiling = Math.min(maxBackoffMs, intervalMs * 2 ** Math.min(this.failures, 20));
    const random = this.options.random ?? Math.random;
    // "Equal jitter": at least half the ceiling, so retries never bunch near zero.
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.inFlight = this.pollOnce().then((outcome) => this.settle(outcome));
    }, delayMs);
  }

  private async settle(outcome: PollOutcome): Promise<void> {
    this.failures = outcome.kind === 'failed' ? this.failures + 1 : 0;
    try {
      await this.options.onOutcome(outcome);
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, 'handling a realtime feed failed');
    }
    this.schedule(this.nextDelayMs());
  }

  /** One request; never throws. */
  async pollOnce(): Promise<PollOutcome> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.etag) headers['if-none-match'] = this.etag;
    if (this.lastModified) headers['if-modified-since'] = this.lastModified;
    try {
      const response = await fetch(this.options.url, {
        headers,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (response.status === 304) {
        await response.body?.cancel();
        return { kind: 'not-modified' };
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { kind: 'failed', reason: `HTTP ${response.status} from ${this.options.url}` };
      }
      const length = Number(response.headers.get('content-length') ?? 0);
      if (length > MAX_REALTIME_FEED_BYTES) {
        await response.body?.cancel();
        return {
          kind: 'failed',
          reason: `feed of ${length} bytes is over the ${MAX_REALTIME_FEED_BYTES} limit`,
        };
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      this.etag = response.headers.get('etag');
      this.lastModified = response.headers.get('last-modified');
      return { kind: 'changed', bytes };
    } catch (err) {
      const error = err as Error;
      const reason =
        error.name === 'TimeoutError'
          ? `no answer from ${this.options.url} within ${this.options.timeoutMs} ms`
          : `${this.options.url}: ${(error.cause as Error | undefined)?.message ?? error.message}`;
      return { kind: 'failed', reason };
    }
  }
}
