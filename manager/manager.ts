/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { EmbeddedBroker } from './broker/embeddedBroker';
import { ClusterMembership } from './cluster/membership';
import { SharedFleet, WholeFleet, type PublishShare } from './cluster/publishShare';
import type { ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { GtfsStore } from './gtfs/gtfsStore';
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
  private membership: ClusterMembership | undefined;
  private sharedFleet: SharedFleet | undefined;
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
      const importer = new BackgroundImporter(db.name);
      const importFeed = async (bytes: Uint8Array, source: string) => {
        const summary = await importer.import(bytes, source);
        schedule.reload();
        logger.info({ ...summary, warnings: summary.warnings.length }, 'imported GTFS feed');
        return summary;
      };
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
      if (config.brokerMode === 'embedded') {
        this.broker = new EmbeddedBroker({
          host: config.brokerHost,
          port: config.brokerPort,
          logger,
        });
        const port = await this.broker.start();
        brokerUrl = `mqtt://${config.brokerHost}:${port}`;
      }

      const share = await this.joinFleet(store);
      const link = new FleetLink({
        url: brokerUrl,
        clientId: `stopsign-manager-${config.managerId}`,
        version: config.version,
        startedAt,
        logger,
        // On an external broker other managers may share the fleet: split what the signs send.
        ...(config.brokerMode === 'external'
          ? { sharedGroup: config.managerGroup, memberId: config.managerId }
          : {}),
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
        share,
      });
      this.publisher = publisher;
      publisher.start();
      feeds.start(config.feedPollSeconds, () => publisher.scheduleChanged());

      const services: ManagerServices = {
        clock,
        link,
        schedule,
        importFeed: (bytes, source) => feeds.importNew(bytes, source),
        signs,
        announcements,
        publisher,
        share,
        offlineAfterSeconds: config.offlineAfterSeconds,
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
   * Alone with its embedded broker the manager publishes for the whole fleet.
   * On an external broker it joins the managers there (membership in the
   * shared store) and publishes its share; one manager is a share of one.
   */
  private async joinFleet(store: SharedStore): Promise<PublishShare> {
    const { config, logger, clock } = this;
    if (config.brokerMode === 'embedded') return new WholeFleet(config.managerId);
    const membership = new ClusterMembership({
      members: store.clusterMembers,
      group: config.managerGroup,
      memberId: config.managerId,
      leaseMs: config.memberLeaseSeconds * 1000,
      clock,
      logger,
    });
    await membership.start();
    this.membership = membership;
    const shared = new SharedFleet({
      membership,
      rounds: store.stopRounds,
      deliveries: store.announcementDeliveries,
      roundMs: config.publishIntervalSeconds * 1000,
    });
    shared.start();
    this.sharedFleet = shared;
    logger.info(
      { group: config.managerGroup, memberId: config.managerId, members: membership.members() },
      'joined the managers sharing the broker',
    );
    return shared;
  }

  /** Stops in reverse order of start; safe to call on a half-started manager. */
  async stop(): Promise<void> {
    await this.http?.stop();
    await this.feeds?.stop();
    await this.publisher?.stop();
    this.sharedFleet?.stop();
    // Leaving at once lets the other managers take this one's share without waiting for its lease.
    await this.membership?.stop();
    await this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.broker?.stop();
    this.db?.close();
    await this.store?.close();
    this.http = this.feeds = this.publisher = this.monitor = this.link = this.broker = undefined;
    this.membership = this.sharedFleet = undefined;
    this.db = this.store = undefined;
  }
}
