/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { loadAllPanelProfiles } from '../panels/catalog';
import { GlyphCoverage } from '../panels/glyphCoverage';
import { EmbeddedBroker } from './broker/embeddedBroker';
import type { ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { GtfsStore } from './gtfs/gtfsStore';
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
      // A broken profile file stops the start with every problem named, before any sign is served.
      const panelProfiles = loadAllPanelProfiles(config.panelProfilesDir, { requireFonts: false });
      const db = openManagerDatabase(config.dataDir);
      this.db = db;
      const schedule = new GtfsStore(db);
      schedule.init();
      const signs = new SignRegistry(db);
      signs.init();
      const announcements = new AnnouncementStore(db);
      announcements.init();
      const importer = new BackgroundImporter(db.name);
      const importFeed = async (bytes: Uint8Array, source: string) => {
        const summary = await importer.import(bytes, source);
        schedule.reload();
        logger.info({ ...summary, warnings: summary.warnings.length }, 'imported GTFS feed');
        return summary;
      };
      if (config.gtfsPath && !schedule.hasSchedule()) {
        await importFeed(fs.readFileSync(config.gtfsPath), config.gtfsPath);
      }

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
        ...(config.agency ? { agency: config.agency } : {}),
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
        importFeed,
        signs,
        announcements,
        publisher,
        offlineAfterSeconds: config.offlineAfterSeconds,
        panelProfiles,
        glyphs: new GlyphCoverage(),
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

  /** Stops in reverse order of start; safe to call on a half-started manager. */
  async stop(): Promise<void> {
    await this.http?.stop();
    await this.publisher?.stop();
    this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.broker?.stop();
    this.db?.close();
    this.http = this.publisher = this.monitor = this.link = this.broker = this.db = undefined;
  }
}
