/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker/embeddedBroker';
import { brokerLimitsOf, importLimitsOf, type ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { FeedImports } from './gtfs/feedImports';
import { GtfsStore } from './gtfs/gtfsStore';
import { defaultAllowedHosts } from './http/hostCheck';
import { HttpServer } from './http/httpServer';
import { FleetLink } from './link/fleetLink';
import { StopPublisher } from './publish/stopPublisher';
import type { ManagerServices } from './services';
import { openSharedStore, type SharedStore } from './store/sharedStore';
import { storeLocationFor } from './store/storeEngine';
import { FeedSync } from './timetable/feedSync';
import { openTimetableDatabase, type TimetableDatabase } from './timetable/timetableDatabase';
import { TimetableOrigin } from './timetable/timetableOrigin';

export interface ManagerEndpoints {
  httpUrl: string;
  brokerUrl: string;
}

export class Manager {
  private store: SharedStore | undefined;
  private db: TimetableDatabase | undefined;
  private feeds: FeedSync | undefined;
  private broker: EmbeddedBroker | undefined;
  private link: FleetLink | undefined;
  private monitor: FleetMonitor | undefined;
  private publisher: StopPublisher | undefined;
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
      const store = await openSharedStore(storeLocationFor(config), { logger });
      this.store = store;
      logger.info(
        { engine: store.engine, migrations: store.appliedMigrations },
        'shared store ready',
      );
      const { signs, announcements } = store;
      const db = openTimetableDatabase(config.dataDir);
      this.db = db;
      const schedule = new GtfsStore(db);
      schedule.init();
      const limits = importLimitsOf(config);
      const imports = new FeedImports(
        new BackgroundImporter(db.name, limits),
        schedule,
        logger,
        path.join(config.dataDir, 'uploads'),
        limits,
      );
      const importFeed = (bytes: Uint8Array, source: string) => imports.importBytes(bytes, source);
      const origin = new TimetableOrigin(db);
      origin.init();
      const feeds = new FeedSync({
        versions: store.feedVersions,
        origin,
        buildTimetable: importFeed,
        clock,
        logger,
      });
      this.feeds = feeds;
      await feeds.catchUp();
      if (config.gtfsPath && !schedule.hasSchedule()) {
        await feeds.importNew(fs.readFileSync(config.gtfsPath), config.gtfsPath);
      }

      let brokerUrl = config.brokerUrl ?? '';
      const clientId = `stopsign-manager-${process.pid}`;
      if (config.brokerMode === 'embedded') {
        this.broker = new EmbeddedBroker({
          host: config.brokerHost,
          port: config.brokerPort,
          logger,
          limits: brokerLimitsOf(config),
          trustedClientIds: [clientId],
        });
        const port = await this.broker.start();
        brokerUrl = `mqtt://${config.brokerHost}:${port}`;
      }

      const link = new FleetLink({
        url: brokerUrl,
        clientId,
        maxPacketBytes: config.mqttMaxPacketBytes,
        reconcileSeconds: config.reconcileSeconds,
        version: config.version,
        startedAt,
        logger,
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
        publishIntervalSeconds: config.publishIntervalSeconds,
        arrivalsPerStop: config.arrivalsPerStop,
        arrivalsWindowMinutes: config.arrivalsWindowMinutes,
        scheduleHorizonHours: config.scheduleHorizonHours,
      });
      this.publisher = publisher;
      publisher.start();
      feeds.start(config.feedPollSeconds, () => publisher.scheduleChanged());

      const services: ManagerServices = {
        clock,
        link,
        schedule,
        importFeed: (bytes, source) => feeds.importNew(bytes, source),
        imports,
        signs,
        announcements,
        publisher,
        offlineAfterSeconds: config.offlineAfterSeconds,
      };
      this.http = new HttpServer({
        host: config.httpHost,
        port: config.httpPort,
        services,
        logger,
        allowedHosts: config.httpAllowedHosts ?? defaultAllowedHosts(config.httpHost),
      });
      const httpUrl = await this.http.start();
      logger.info({ httpUrl, brokerUrl }, 'manager started');
      return { httpUrl, brokerUrl };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops in reverse order of start; safe to call on a half-started manager. */
  async stop(): Promise<void> {
    await this.http?.stop();
    await this.feeds?.stop();
    await this.publisher?.stop();
    await this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.broker?.stop();
    this.db?.close();
    await this.store?.close();
    this.http = this.feeds = this.publisher = this.monitor = this.link = this.broker = undefined;
    this.db = this.store = undefined;
  }
}
