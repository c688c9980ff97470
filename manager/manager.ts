/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import path from 'node:path';
import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker/embeddedBroker';
import { brokerLimitsOf, importLimitsOf, type ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { FeedImports } from './gtfs/feedImports';
import { GtfsStore } from './gtfs/gtfsStore';
import { openTimetableDatabase } from './gtfs/timetableDatabase';
import { defaultAllowedHosts } from './http/hostCheck';
import { HttpServer } from './http/httpServer';
import { FleetLink } from './link/fleetLink';
import { StopPublisher } from './publish/stopPublisher';
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
  private timetableDb: SqliteDatabase | undefined;
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
      const db = openManagerDatabase(config.dataDir);
      this.db = db;
      const timetableDb = openTimetableDatabase(config.dataDir);
      this.timetableDb = timetableDb;
      const schedule = new GtfsStore(timetableDb);
      schedule.init();
      const signs = new SignRegistry(db);
      signs.init();
      const announcements = new AnnouncementStore(db);
      announcements.init();
      const limits = importLimitsOf(config);
      const imports = new FeedImports(
        new BackgroundImporter(timetableDb.name, limits),
        schedule,
        logger,
        path.join(config.dataDir, 'uploads'),
        limits.maxUploadBytes,
      );
      if (config.gtfsPath && !schedule.hasSchedule()) {
        await imports.importFile(config.gtfsPath, config.gtfsPath);
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

      const services: ManagerServices = {
        clock,
        link,
        schedule,
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
    await this.publisher?.stop();
    this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.broker?.stop();
    this.db?.close();
    this.timetableDb?.close();
    this.http = this.publisher = this.monitor = this.link = this.broker = undefined;
    this.db = this.timetableDb = undefined;
  }
}
