/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker/embeddedBroker';
import type { ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { GtfsStore } from './gtfs/gtfsStore';
import { HttpServer } from './http/httpServer';
import { FleetLink } from './link/fleetLink';
import { coverageWarnings } from './gtfs/feedChecks';
import { StopPublisher } from './publish/stopPublisher';
import { ArrivalBoards, DEFAULT_BOARD_OPTIONS } from './realtime/arrivalBoards';
import { RealtimeFeeds } from './realtime/realtimeFeeds';
import { RealtimePublisher } from './realtime/realtimePublisher';
import { RealtimeService } from './realtime/realtimeService';
import { StaticLookup } from './realtime/staticLookup';
import type { ManagerServices } from './services';
import { AnnouncementStore } from './store/announcementStore';
import { openManagerDatabase, type SqliteDatabase } from './store/database';
import { SignRegistry } from './store/signRegistry';

export interface ManagerEndpoints {
  httpUrl: string;
  brokerUrl: string;
}

export class Manager {
  private db: SqliteDatabase | undefined;
  private broker: EmbeddedBroker | undefined;
  private link: FleetLink | undefined;
  private monitor: FleetMonitor | undefined;
  private publisher: StopPublisher | undefined;
  private realtimePublisher: RealtimePublisher | undefined;
  private feeds: RealtimeFeeds | undefined;
  private http: HttpServer | undefined;

  constructor(
    private readonly config: ManagerConfig,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  async start(): Promise<ManagerEndpoints> {
    const { config, logger, clock } = this;
    const startedAt = Math.floor(clock() / 1000);
    try {
      const db = openManagerDatabase(config.dataDir);
      this.db = db;
      const schedule = new GtfsStore(db);
      schedule.init();
      const signs = new SignRegistry(db);
      signs.init();
      const announcements = new AnnouncementStore(db);
      announcements.init();
      const lookup = new StaticLookup(db);
      lookup.init();
      const realtime = new RealtimeService({
        lookup,
        timezone: () => schedule.timezone(),
        clock,
        logger,
        staleAfterSeconds: config.realtimeStaleSeconds,
      });
      const boards = new ArrivalBoards(schedule, () => realtime.view(), {
        ...DEFAULT_BOARD_OPTIONS,
        arrivalsPerStop: config.arrivalsPerStop,
        windowMinutes: config.arrivalsWindowMinutes,
      });
      const importer = new BackgroundImporter(db.name);
      const importFeed = async (
        bytes: Uint8Array,
        source: string,
        options: { force?: boolean } = {},
      ) => {
        const summary = await importer.import(bytes, source, {
          signsInUse: signs.list().map((s) => ({ deviceId: s.deviceId, stopId: s.stopId })),
          force: options.force ?? false,
        });
        schedule.reload();
        boards.scheduleChanged();
        realtime.scheduleChanged();
        logger.info({ ...summary, warnings: summary.warnings.length }, 'imported GTFS feed');
        return summary;
      };
      if (config.gtfsPath)
        await this.importConfiguredFeed(config.gtfsPath, schedule, signs, importFeed);
      const timetableWarnings = (): string[] => {
        const summary = schedule.summary();
        const zone = schedule.timezone();
        if (!summary || !zone) return ['no timetable has been imported'];
        return coverageWarnings({
          serviceStart: summary.serviceStart,
          serviceEnd: summary.serviceEnd,
          timezone: zone,
          now: Math.floor(clock() / 1000),
          tripMatchRate: realtime.tripMatchRate(),
        });
      };
      for (const warning of timetableWarnings()) logger.warn({ warning }, 'timetable check');

      let brokerUrl = config.brokerUrl ?? '';
      if (config.brokerMode === 'embedded') {
        this.broker = new EmbeddedBroker({
          host: config.brokerHost,
          port: config.brokerPort,
          logger,
        });
        const port = await this.broker.start();
        brokerUrl = `mqtt://${config.brokerHost}:${port}`;
      }

      const link = new FleetLink({
        url: brokerUrl,
        clientId: `stopsign-manager-${process.pid}`,
        version: config.version,
        startedAt,
        logger,
        clock,
      });
      this.link = link;
      this.monitor = new FleetMonitor({ link, signs, clock, logger });
      this.monitor.start();
      await link.start();

      const publisher = new StopPublisher({
        link,
        schedule,
        signs,
        announcements,
        clock,
        logger,
        boards,
        onRetainedLost: () => this.realtimePublisher?.forgetSent(),
        publishIntervalSeconds: config.publishIntervalSeconds,
        scheduleHorizonHours: config.scheduleHorizonHours,
      });
      this.publisher = publisher;
      publisher.start();
      const realtimePublisher = new RealtimePublisher({
        link,
        stopIds: () => signs.stopIds(),
        service: realtime,
        publisher,
        clock,
        logger,
        heartbeatSeconds: config.realtimePollSeconds,
      });
      this.realtimePublisher = realtimePublisher;
      realtimePublisher.start();
      void realtimePublisher.tick();
      this.feeds = new RealtimeFeeds({
        config,
        service: realtime,
        logger,
        onFeedChanged: () => realtimePublisher.feedChanged(),
      });
      this.feeds.start();

      const services: ManagerServices = {
        clock,
        link,
        schedule,
        importFeed,
        signs,
        announcements,
        publisher,
        offlineAfterSeconds: config.offlineAfterSeconds,
        timetableWarnings,
        realtime: {
          service: realtime,
          boards,
          feedChanged: () => realtimePublisher.feedChanged(),
        },
      };
      this.http = new HttpServer({
        host: config.httpHost,
        port: config.httpPort,
        services,
        logger,
      });
      const httpUrl = await this.http.start();
      logger.info({ httpUrl, brokerUrl }, 'manager started');
      return { httpUrl, brokerUrl };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /**
   * Imports the configured feed unless the stored timetable came from the same
   * bytes. A configured file is the operator's explicit choice, so it is imported
   * even when it drops stops that signs use; those signs are named in the log.
   */
  private async importConfiguredFeed(
    gtfsPath: string,
    schedule: GtfsStore,
    signs: SignRegistry,
    importFeed: (
      bytes: Uint8Array,
      source: string,
      options: { force: boolean },
    ) => Promise<unknown>,
  ): Promise<void> {
    const bytes = fs.readFileSync(gtfsPath);
    const source = `${gtfsPath} (sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)})`;
    const current = schedule.summary()?.source;
    if (current === source) {
      this.logger.info({ source }, 'timetable already imported from this file; kept');
      return;
    }
    await importFeed(bytes, source, { force: true });
    const stranded = signs.list().filter((s) => !schedule.stop(s.stopId));
    if (stranded.length > 0) {
      this.logger.warn(
        { signs: stranded.map((s) => `${s.deviceId} at ${s.stopId}`) },
        'the imported timetable does not have the stops of these signs',
      );
    }
    this.logger.info(
      { source, replaced: current ?? null },
      'timetable imported from the configured file',
    );
  }

  /** Stops in reverse order of start; safe to call on a half-started manager. */
  async stop(): Promise<void> {
    await this.http?.stop();
    await this.feeds?.stop();
    this.realtimePublisher?.stop();
    await this.publisher?.stop();
    this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.broker?.stop();
    this.db?.close();
    this.feeds = this.realtimePublisher = undefined;
    this.http = this.publisher = this.monitor = this.link = this.broker = this.db = undefined;
  }
}
