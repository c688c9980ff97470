/** The configured feed URLs, each polled on its own, feeding one RealtimeService. */
import type { Logger } from 'pino';
import type { ManagerConfig } from '../config';
import type { FeedKind } from './feedModel';
import { FeedPoller, type PollOutcome } from './feedPoller';
import type { RealtimeService } from './realtimeService';

export interface RealtimeFeedsOptions {
  config: ManagerConfig;
  service: RealtimeService;
  logger: Logger;
  /** Called after a feed changed and was taken in. */
  onFeedChanged: () => Promise<void>;
}

export class RealtimeFeeds {
  private readonly pollers: FeedPoller[] = [];

  constructor(private readonly options: RealtimeFeedsOptions) {}

  start(): void {
    const { config, service, logger } = this.options;
    const targets: [FeedKind | 'combined', string | undefined][] = [
      ['tripUpdates', config.realtimeTripUpdatesUrl],
      ['vehiclePositions', config.realtimeVehiclePositionsUrl],
      ['alerts', config.realtimeAlertsUrl],
      ['combined', config.realtimeUrl],
    ];
    for (const [kind, url] of targets) {
      if (!url) continue;
      if (kind !== 'combined') service.configure(kind, url);
      const poller: FeedPoller = new FeedPoller({
        url,
        headers: config.realtimeHeaders,
        intervalMs: config.realtimePollSeconds * 1000,
        timeoutMs: config.realtimeTimeoutSeconds * 1000,
        maxBackoffMs: config.realtimeMaxBackoffSeconds * 1000,
        logger,
        onOutcome: (outcome): Promise<void> => this.handle(kind, url, outcome, poller),
      });
      this.pollers.push(poller);
      poller.start();
    }
    if (this.pollers.length > 0)
      logger.info({ feeds: this.pollers.length }, 'polling realtime feeds');
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
    this.pollers.length = 0;
  }

  private async handle(
    kind: FeedKind | 'combined',
    url: string,
    outcome: PollOutcome,
    poller: FeedPoller,
  ): Promise<void> {
    const { service, logger } = this.options;
    if (outcome.kind === 'not-modified') {
      // Unchanged: nothing to build or publish; the heartbeat still says how old the feed is.
      service.notModified(kind);
      return;
    }
    if (outcome.kind === 'failed') {
      service.failed(kind, url, outcome.reason);
      logger.warn(
        { url, reason: outcome.reason, failures: poller.consecutiveFailures + 1 },
        'realtime feed poll failed; backing off',
      );
      return;
    }
    const result = service.ingest(outcome.bytes, url, kind);
    if (result.ok) await this.options.onFeedChanged();
  }
}
