/** Builds and wires every part of the fleet manager; the only place that knows them all. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadAllPanelProfiles } from '../panels/catalog';
import { GlyphCoverage } from '../panels/glyphCoverage';
import { AuditLog } from './access/auditLog';
import { OperatorAccounts } from './access/operatorAccounts';
import { SignProvisioning } from './access/signProvisioning';
import type { BrokerAccess } from './broker/brokerAccess';
import { EmbeddedBrokerAccess } from './broker/embeddedAccess';
import { EmbeddedBroker } from './broker/embeddedBroker';
import { ClusterMembership } from './cluster/membership';
import { SharedFleet, WholeFleet, type PublishShare } from './cluster/publishShare';
import { StoreMutex } from './cluster/storeMutex';
import { MosquittoDynsecAccess } from './broker/mosquittoDynsec';
import { UnmanagedBrokerAccess } from './broker/unmanagedAccess';
import { brokerLimitsOf, importLimitsOf, type ManagerConfig } from './config';
import { FleetMonitor } from './fleet/fleetMonitor';
import { BackgroundImporter } from './gtfs/backgroundImport';
import { coverageWarnings } from './gtfs/feedChecks';
import { FeedImports } from './gtfs/feedImports';
import { DepartureWorker } from './gtfs/departureWorker';
import { GtfsStore } from './gtfs/gtfsStore';
import { TimetableSchedule } from './gtfs/timetableSchedule';
import type { ImportSummary, ScheduleSource } from './gtfs/types';
import type { RegisteredRoute } from './http/access/routeAccess';
import { defaultAllowedHosts } from './http/hostCheck';
import { HttpServer } from './http/httpServer';
import { FleetLink } from './link/fleetLink';
import { StopPublisher } from './publish/stopPublisher';
import { BundleIntake } from './rollout/bundleIntake';
import { RolloutEngine } from './rollout/rolloutEngine';
import { ArrivalBoards, DEFAULT_BOARD_OPTIONS } from './realtime/arrivalBoards';
import { RealtimeFeeds } from './realtime/realtimeFeeds';
import { RealtimePublisher } from './realtime/realtimePublisher';
import { RealtimeService } from './realtime/realtimeService';
import { StaticLookup } from './realtime/staticLookup';
import { LoginThrottle } from './security/loginThrottle';
import { randomSecret } from './security/secrets';
import { defaultHostnames, loadTlsMaterial, type TlsMaterial } from './security/tlsMaterial';
import type { ManagerServices } from './services';
import { openSharedStore, type SharedStore } from './store/sharedStore';
import type { SignRepository } from './store/signRepository';
import { storeLocationFor } from './store/storeEngine';
import { FeedSync } from './timetable/feedSync';
import { openTimetableDatabase, type TimetableDatabase } from './timetable/timetableDatabase';
import { TimetableOrigin } from './timetable/timetableOrigin';

export interface ManagerEndpoints {
  httpUrl: string;
  /** The broker URL claimed signs are given. */
  brokerUrl: string;
  /** The CA signs pin (PEM) and its SHA-256, as claims carry it. */
  caPem: string;
  caFingerprint: string;
  /** Set while no operator exists: creates the first admin (POST /api/setup). */
  setupToken: string | undefined;
}

/** The embedded broker's account for this manager; ':' cannot occur in a device id. */
const EMBEDDED_MANAGER_USER = 'manager:embedded';

export class Manager {
  private store: SharedStore | undefined;
  private db: TimetableDatabase | undefined;
  private departureWorker: DepartureWorker | undefined;
  private feeds: FeedSync | undefined;
  private broker: EmbeddedBroker | undefined;
  private membership: ClusterMembership | undefined;
  private sharedFleet: SharedFleet | undefined;
  private dynsec: MosquittoDynsecAccess | undefined;
  private link: FleetLink | undefined;
  private monitor: FleetMonitor | undefined;
  private publisher: StopPublisher | undefined;
  private realtimePublisher: RealtimePublisher | undefined;
  private realtimeFeeds: RealtimeFeeds | undefined;
  private http: HttpServer | undefined;
  private rollouts: RolloutEngine | undefined;

  constructor(
    private readonly config: ManagerConfig,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Every HTTP route with the access it declared (empty before start). */
  routes(): readonly RegisteredRoute[] {
    return this.http?.routes() ?? [];
  }

  async start(): Promise<ManagerEndpoints> {
    const { config, logger, clock } = this;
    const startedAt = Math.floor(clock() / 1000);
    try {
      // A broken profile file stops the start with every problem named, before any sign is served.
      const panelProfiles = loadAllPanelProfiles(config.panelProfilesDir, { requireFonts: false });
      const store = await openSharedStore(storeLocationFor(config), { logger });
      this.store = store;
      logger.info(
        { engine: store.engine, migrations: store.appliedMigrations },
        'shared store ready',
      );
      const { signs, announcements } = store;
      const db = openTimetableDatabase(config.dataDir);
      this.db = db;
      const timetable = new GtfsStore(db);
      timetable.init();
      // Departures are worked out on a thread of their own, never on the broker's and HTTP's loop.
      const departureWorker = new DepartureWorker({ dbPath: db.name });
      this.departureWorker = departureWorker;
      await departureWorker.start();
      const schedule = new TimetableSchedule(timetable, departureWorker);
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
      const limits = importLimitsOf(config);
      const imports = new FeedImports(
        new BackgroundImporter(db.name, limits),
        schedule,
        logger,
        path.join(config.dataDir, 'uploads'),
        limits,
      );
      /**
       * Whether a feed handed to importNew may drop stops that signs use, by the
       * bytes' identity: a version caught up from the shared store was accepted
       * by the manager that recorded it, so it is never refused here.
       */
      const forced = new WeakMap<Uint8Array, boolean>();
      const importFeed = async (bytes: Uint8Array, source: string): Promise<ImportSummary> => {
        const summary = await imports.importBytes(bytes, source, {
          signsInUse: (await signs.list()).map((s) => ({ deviceId: s.deviceId, stopId: s.stopId })),
          force: forced.get(bytes) ?? true,
        });
        boards.scheduleChanged();
        realtime.scheduleChanged();
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
      const importNew = (bytes: Uint8Array, source: string, force: boolean) => {
        forced.set(bytes, force);
        return feeds.importNew(bytes, source);
      };
      if (config.gtfsPath) {
        await this.importConfiguredFeed(config.gtfsPath, schedule, signs, importNew);
      }
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

      const publicHost = config.publicHost ?? reachableHost(config.httpHost);
      const tls = loadTlsMaterial(
        path.join(config.dataDir, 'tls'),
        { certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, caFile: config.tlsCaFile },
        defaultHostnames([publicHost], [config.httpHost, config.brokerHost]),
        logger,
      );
      const audit = new AuditLog(store.audit, clock, logger);
      const accounts = new OperatorAccounts({
        operators: store.operators,
        sessions: store.sessions,
        apiTokens: store.apiTokens,
        audit,
        throttle: new LoginThrottle(
          { maxFailures: config.loginMaxFailures, windowSeconds: 900 },
          clock,
        ),
        clock,
        logger,
        scryptLog2Cost: config.scryptCost,
        sessionIdleHours: config.sessionIdleHours,
      });
      await accounts.start();

      const { access, linkUrl, linkUser, brokerCaPem, signBrokerUrl } = await this.startBroker(
        tls,
        publicHost,
        store,
      );

      const share = await this.joinFleet(store);
      const link = new FleetLink({
        url: linkUrl,
        username: linkUser.username,
        password: linkUser.password,
        caPem: brokerCaPem,
        maxPacketBytes: config.mqttMaxPacketBytes,
        reconcileSeconds: config.reconcileSeconds,
        version: config.version,
        startedAt,
        logger,
        clock,
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
        boards,
        onRetainedLost: () => this.realtimePublisher?.forgetSent(),
        publishIntervalSeconds: config.publishIntervalSeconds,
        ...(config.agency ? { agency: config.agency } : {}),
        scheduleHorizonHours: config.scheduleHorizonHours,
        share,
      });
      this.publisher = publisher;
      publisher.start();
      feeds.start(config.feedPollSeconds, () => publisher.scheduleChanged());
      const realtimePublisher = new RealtimePublisher({
        link,
        // Among several managers each sends its own stops' alerts, and one the heartbeat.
        stopIds: async () => [...(await publisher.holdStops(await signs.stopIds(), clock()))],
        sendsHeartbeat: () => share.leads('realtime-heartbeat'),
        service: realtime,
        publisher,
        clock,
        logger,
        heartbeatSeconds: config.realtimePollSeconds,
      });
      this.realtimePublisher = realtimePublisher;
      realtimePublisher.start();
      void realtimePublisher.tick();
      this.realtimeFeeds = new RealtimeFeeds({
        config,
        service: realtime,
        logger,
        onFeedChanged: () => realtimePublisher.feedChanged(),
      });
      this.realtimeFeeds.start();

      let httpUrl = '';
      // The manager as signs reach it: claims, and the bundles they download.
      const signFacingUrl = () =>
        config.publicUrl ?? `https://${hostInUrl(publicHost)}:${new URL(httpUrl).port}`;
      const provisioning = new SignProvisioning({
        signs,
        claimCodes: store.claimCodes,
        signCredentials: store.signCredentials,
        announcements,
        schedule,
        publisher,
        link,
        broker: access,
        audit,
        clock,
        logger,
        claimTtlSeconds: config.claimTtlHours * 3600,
        managerUrl: signFacingUrl,
        managerCaFingerprint: tls.caFingerprint,
        signBrokerUrl,
        brokerCaPem: brokerCaPem ?? tls.caPem,
        panelProfileIds: new Set(panelProfiles.keys()),
      });

      const rolloutRepo = store.rollouts;
      const rollouts = new RolloutEngine({
        repo: rolloutRepo,
        link,
        signs,
        schedule,
        clock,
        logger,
        tickMs: config.rolloutTickSeconds * 1000,
        bundleUrl: (bundle) =>
          `${signFacingUrl()}/api/bundles/${encodeURIComponent(bundle.bundleId)}/file`,
        ...(config.brokerMode === 'external'
          ? {
              mutex: new StoreMutex({
                leases: store.leases,
                name: `${config.managerGroup}:rollouts`,
                holder: config.managerId,
                leaseMs: config.memberLeaseSeconds * 1000,
                clock,
              }),
            }
          : {}),
      });
      this.rollouts = rollouts;
      rollouts.start();

      const services: ManagerServices = {
        clock,
        link,
        schedule,
        importFeed: (bytes, source, options = {}) =>
          importNew(bytes, source, options.force ?? false),
        imports,
        signs,
        announcements,
        publisher,
        share,
        offlineAfterSeconds: config.offlineAfterSeconds,
        rollouts: {
          repo: rolloutRepo,
          engine: rollouts,
          intake: new BundleIntake({
            repo: rolloutRepo,
            dir: path.join(config.dataDir, 'bundles'),
            trustedKeysFile: config.bundleTrustedKeysFile,
            clock,
          }),
          bytesServed: new Map(),
          audit,
        },
        panelProfiles,
        glyphs: new GlyphCoverage(),
        accounts,
        provisioning,
        audit,
        auditEvents: store.audit,
        broker: access,
        tls: { caPem: tls.caPem, caFingerprint: tls.caFingerprint },
        claimThrottle: new LoginThrottle({ maxFailures: 20, windowSeconds: 600 }, clock),
        setupThrottle: new LoginThrottle({ maxFailures: 5, windowSeconds: 900 }, clock),
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
        tls: config.httpTls ? tls : undefined,
        // The name signs and browsers use (certificate, claims) is one the API answers to.
        allowedHosts: config.httpAllowedHosts ?? [
          ...defaultAllowedHosts(config.httpHost),
          publicHost.toLowerCase(),
        ],
      });
      httpUrl = await this.http.start();
      const setupToken = accounts.pendingSetupToken();
      logger.info({ httpUrl, brokerUrl: signBrokerUrl }, 'manager started');
      return {
        httpUrl,
        brokerUrl: signBrokerUrl,
        caPem: tls.caPem,
        caFingerprint: tls.caFingerprint,
        setupToken,
      };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** The embedded broker, or the external one's access driver; what the link and signs connect to. */
  private async startBroker(
    tls: TlsMaterial,
    publicHost: string,
    store: SharedStore,
  ): Promise<{
    access: BrokerAccess;
    linkUrl: string;
    linkUser: { username: string; password: string };
    brokerCaPem: string | undefined;
    signBrokerUrl: string;
  }> {
    const { config, logger } = this;
    if (config.brokerMode === 'embedded') {
      const linkUser = { username: EMBEDDED_MANAGER_USER, password: randomSecret(32) };
      const access = new EmbeddedBrokerAccess({
        manager: linkUser,
        observerPassword: config.brokerObserverPassword,
        signCredentials: store.signCredentials,
        signs: store.signs,
        logger: logger.child({ part: 'broker-access' }),
        clock: this.clock,
      });
      this.broker = new EmbeddedBroker({
        host: config.brokerHost,
        port: config.brokerPort,
        logger,
        access,
        tls: config.brokerTls ? tls : undefined,
        limits: brokerLimitsOf(config),
        trustedClientIds: [EMBEDDED_MANAGER_USER],
        onConnectionDropped: (address, detail) =>
          access.refused.record('connection-limit', '', address, detail),
      });
      const port = await this.broker.start();
      const scheme = config.brokerTls ? 'mqtts' : 'mqtt';
      return {
        access,
        linkUrl: `${scheme}://${hostInUrl(reachableHost(config.brokerHost, '127.0.0.1'))}:${port}`,
        linkUser,
        brokerCaPem: config.brokerTls ? tls.caPem : undefined,
        signBrokerUrl: config.signBrokerUrl ?? `mqtts://${hostInUrl(publicHost)}:${port}`,
      };
    }
    const brokerUrl = config.brokerUrl ?? '';
    const linkUser = {
      username: config.brokerUsername ?? '',
      password: config.brokerPassword ?? '',
    };
    const brokerCaPem = config.brokerCaFile
      ? fs.readFileSync(config.brokerCaFile, 'utf8')
      : undefined;
    let access: BrokerAccess;
    if (config.brokerAccess === 'mosquitto-dynsec') {
      const dynsec = new MosquittoDynsecAccess({
        url: brokerUrl,
        ...linkUser,
        caPem: brokerCaPem,
        logger: logger.child({ part: 'broker-access' }),
      });
      await dynsec.start();
      this.dynsec = dynsec;
      await dynsec.grantCityTopic((await store.signs.list()).map((s) => s.deviceId));
      access = dynsec;
    } else {
      access = new UnmanagedBrokerAccess(logger);
    }
    return {
      access,
      linkUrl: brokerUrl,
      linkUser,
      brokerCaPem,
      signBrokerUrl: config.signBrokerUrl ?? brokerUrl,
    };
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
      leases: store.leases,
      leaseMs: config.memberLeaseSeconds * 1000,
      clock,
    });
    shared.start();
    this.sharedFleet = shared;
    logger.info(
      { group: config.managerGroup, memberId: config.managerId, members: membership.members() },
      'joined the managers sharing the broker',
    );
    return shared;
  }

  /**
   * Imports the configured feed when there is no timetable yet, or when the file
   * changed since it was imported. A configured file is the operator's explicit
   * choice, so it is imported even when it drops stops that signs use; those
   * signs are named in the log.
   */
  private async importConfiguredFeed(
    gtfsPath: string,
    schedule: ScheduleSource,
    signs: SignRepository,
    importNew: (bytes: Uint8Array, source: string, force: boolean) => Promise<ImportSummary>,
  ): Promise<void> {
    const bytes = fs.readFileSync(gtfsPath);
    const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    const source = `${gtfsPath} (sha256 ${hash})`;
    const current = schedule.summary()?.source;
    if (current === source) {
      this.logger.info({ source }, 'timetable already imported from this file; kept');
      return;
    }
    // A feed uploaded since (here or by another manager) is newer than the configured file.
    if (current !== undefined && !current.startsWith(`${gtfsPath} (sha256 `)) {
      this.logger.info(
        { inForce: current, configured: gtfsPath },
        'a feed imported since is in force; the configured file is not imported again',
      );
      return;
    }
    await importNew(bytes, source, true);
    const stranded = (await signs.list()).filter((s) => !schedule.stop(s.stopId));
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
    await this.rollouts?.stop();
    await this.realtimeFeeds?.stop();
    this.realtimePublisher?.stop();
    await this.feeds?.stop();
    await this.publisher?.stop();
    this.sharedFleet?.stop();
    // Leaving at once lets the other managers take this one's share without waiting for its lease.
    await this.membership?.stop();
    await this.monitor?.stop();
    await this.link?.stop().catch(() => undefined);
    await this.dynsec?.stop().catch(() => undefined);
    await this.broker?.stop();
    await this.departureWorker?.stop();
    this.db?.close();
    await this.store?.close();
    this.rollouts = undefined;
    this.http = this.feeds = this.publisher = this.monitor = this.link = this.broker = undefined;
    this.membership = this.sharedFleet = undefined;
    this.dynsec = undefined;
    this.realtimeFeeds = this.realtimePublisher = undefined;
    this.db = this.store = undefined;
    this.departureWorker = undefined;
  }
}

/** A listen address others can dial: "all interfaces" means this machine's name. */
function reachableHost(listenHost: string, fallback = os.hostname()): string {
  return listenHost === '0.0.0.0' || listenHost === '::' ? fallback : listenHost;
}

function hostInUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
