import type { GlyphCoverage } from '../panels/glyphCoverage';
import type { PanelProfile } from '../shared';
import type { PublishShare } from './cluster/publishShare';
import type { AuditLog } from './access/auditLog';
import type { OperatorAccounts } from './access/operatorAccounts';
import type { SignProvisioning } from './access/signProvisioning';
import type { BrokerAccess } from './broker/brokerAccess';
import type { FeedImports } from './gtfs/feedImports';
import type { ImportSummary, ScheduleSource } from './gtfs/types';
import type { ArrivalBoards } from './realtime/arrivalBoards';
import type { RealtimeService } from './realtime/realtimeService';
import type { FleetLink } from './link/fleetLink';
import type { StopPublisher } from './publish/stopPublisher';
import type { RolloutServices } from './rollout/rolloutRoutes';
import type { LoginThrottle } from './security/loginThrottle';
import type { AnnouncementRepository } from './store/announcementRepository';
import type { AuditRepository } from './store/auditRepository';
import type { SignRepository } from './store/signRepository';

/** The parts HTTP handlers may use; built once by the Manager. */
export interface ManagerServices {
  /** Epoch milliseconds. */
  clock: () => number;
  link: FleetLink;
  schedule: ScheduleSource;
  /**
   * Replaces the timetable in a child process and records the feed for every
   * manager; rejects with GtfsImportError (ImportLimitError past a limit,
   * StopsDroppedError when the feed drops stops that signs use, unless forced),
   * keeping the old one.
   */
  importFeed(
    bytes: Uint8Array,
    source: string,
    options?: { force?: boolean },
  ): Promise<ImportSummary>;
  /** The upload slot and limits: one timetable upload at a time. */
  imports: FeedImports;
  /** Warnings about the timetable's coverage and the realtime match rate, for health and console. */
  timetableWarnings(): string[];
  realtime: {
    service: RealtimeService;
    boards: ArrivalBoards;
    /** A feed was taken in: send what changed. */
    feedChanged(): Promise<void>;
  };
  signs: SignRepository;
  announcements: AnnouncementRepository;
  publisher: StopPublisher;
  /** This manager's part of the fleet, for the health report. */
  share: PublishShare;
  offlineAfterSeconds: number;
  /** Bundles and rollouts; absent where updates are not served. */
  rollouts?: RolloutServices;
  /** Every panel profile the fleet may use, by id. */
  panelProfiles: ReadonlyMap<string, PanelProfile>;
  /** What each profile's fonts can draw, for warnings on announcements. */
  glyphs: GlyphCoverage;
  accounts: OperatorAccounts;
  provisioning: SignProvisioning;
  audit: AuditLog;
  auditEvents: AuditRepository;
  broker: BrokerAccess;
  /** The CA signs pin: served so a new sign can check it against its claim's fingerprint. */
  tls: { caPem: string; caFingerprint: string };
  /** Failed claims and setup attempts per address. */
  claimThrottle: LoginThrottle;
  setupThrottle: LoginThrottle;
}
