/**
 * Opens the manager's shared store on either engine, brings its schema up to
 * date, and hands out one repository per aggregate. Callers see only the
 * repository interfaces, so the engine is configuration, not code.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type Dialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { AnnouncementDeliveryRepository } from './announcementDeliveryRepository';
import type { AnnouncementRepository } from './announcementRepository';
import type { ClusterMemberRepository } from './clusterMemberRepository';
import type { FeedVersionRepository } from './feedVersionRepository';
import { KyselyAnnouncementDeliveryRepository } from './kyselyAnnouncementDeliveryRepository';
import { KyselyAnnouncementRepository } from './kyselyAnnouncementRepository';
import { KyselyClusterMemberRepository } from './kyselyClusterMemberRepository';
import {
  DEFAULT_FEED_LIMITS,
  KyselyFeedVersionRepository,
  type FeedVersionLimits,
} from './kyselyFeedVersionRepository';
import { KyselyRolloutRepository } from './kyselyRolloutRepository';
import { KyselyLeaseRepository } from './kyselyLeaseRepository';
import { KyselySignRepository } from './kyselySignRepository';
import { KyselyStopRoundRepository } from './kyselyStopRoundRepository';
import type { LeaseRepository } from './leaseRepository';
import type { ApiTokenRepository } from './apiTokenRepository';
import type { AuditRepository } from './auditRepository';
import type { ClaimCodeRepository } from './claimCodeRepository';
import { KyselyApiTokenRepository } from './kyselyApiTokenRepository';
import { KyselyAuditRepository } from './kyselyAuditRepository';
import { KyselyClaimCodeRepository } from './kyselyClaimCodeRepository';
import { KyselyOperatorRepository } from './kyselyOperatorRepository';
import { KyselySessionRepository } from './kyselySessionRepository';
import { KyselySignCredentialRepository } from './kyselySignCredentialRepository';
import type { OperatorRepository } from './operatorRepository';
import type { SessionRepository } from './sessionRepository';
import type { SignCredentialRepository } from './signCredentialRepository';
import { migrateStore } from './migrateStore';
import type { RolloutRepository } from '../rollout/rolloutRepository';
import type { SignRepository } from './signRepository';
import type { StopRoundRepository } from './stopRoundRepository';
import { describeLocation, type StoreEngine, type StoreLocation } from './storeEngine';
import type { StoreSchema } from './storeSchema';
import { WalCheckpointer } from './walCheckpointer';

export interface SharedStore {
  readonly engine: StoreEngine;
  readonly signs: SignRepository;
  readonly announcements: AnnouncementRepository;
  readonly feedVersions: FeedVersionRepository;
  readonly rollouts: RolloutRepository;
  /** What managers sharing one broker coordinate through (see manager/cluster/). */
  readonly clusterMembers: ClusterMemberRepository;
  readonly leases: LeaseRepository;
  readonly stopRounds: StopRoundRepository;
  readonly announcementDeliveries: AnnouncementDeliveryRepository;
  readonly operators: OperatorRepository;
  readonly sessions: SessionRepository;
  readonly apiTokens: ApiTokenRepository;
  readonly signCredentials: SignCredentialRepository;
  readonly claimCodes: ClaimCodeRepository;
  readonly audit: AuditRepository;
  /** Migrations this start applied (empty when the schema was already current). */
  readonly appliedMigrations: string[];
  close(): Promise<void>;
}

export interface SharedStoreOptions {
  /** Where connection trouble between queries is reported (a PostgreSQL restart, a dropped link). */
  logger?: Logger;
  feedLimits?: FeedVersionLimits;
  /** Called with the SQL of every statement run: tests count them, nothing else needs them. */
  onQuery?: (sql: string) => void;
  /** Connections PostgreSQL may hold open for this manager. */
  poolSize?: number;
}

export async function openSharedStore(
  location: StoreLocation,
  options: SharedStoreOptions = {},
): Promise<SharedStore> {
  const { onQuery } = options;
  const db = new Kysely<StoreSchema>({
    dialect: createDialect(location, options),
    ...(onQuery
      ? {
          log: (event: LogEvent) => {
            if (event.level === 'query') onQuery(event.query.sql);
          },
        }
      : {}),
  });
  let checkpointer: WalCheckpointer | undefined;
  try {
    const appliedMigrations = await migrateStore(db, location.engine);
    if (location.engine === 'sqlite') {
      checkpointer = new WalCheckpointer(location.file, options.logger);
      checkpointer.start();
    }
    return {
      engine: location.engine,
      signs: new KyselySignRepository(db),
      announcements: new KyselyAnnouncementRepository(db),
      feedVersions: new KyselyFeedVersionRepository(db, options.feedLimits ?? DEFAULT_FEED_LIMITS),
      rollouts: new KyselyRolloutRepository(db),
      clusterMembers: new KyselyClusterMemberRepository(db),
      leases: new KyselyLeaseRepository(db),
      stopRounds: new KyselyStopRoundRepository(db),
      announcementDeliveries: new KyselyAnnouncementDeliveryRepository(db),
      operators: new KyselyOperatorRepository(db),
      sessions: new KyselySessionRepository(db),
      apiTokens: new KyselyApiTokenRepository(db),
      signCredentials: new KyselySignCredentialRepository(db),
      claimCodes: new KyselyClaimCodeRepository(db),
      audit: new KyselyAuditRepository(db),
      appliedMigrations,
      close: async () => {
        await checkpointer?.stop();
        await db.destroy();
      },
    };
  } catch (err) {
    await checkpointer?.stop();
    await db.destroy();
    throw new Error(
      `could not open the shared store (${describeLocation(location)}): ${(err as Error).message}`,
    );
  }
}

function createDialect(location: StoreLocation, options: SharedStoreOptions): Dialect {
  if (location.engine === 'sqlite') {
    return new SqliteDialect({
      database: async () => {
        fs.mkdirSync(path.dirname(location.file), { recursive: true });
        const sqlite = new Database(location.file, { timeout: 10_000 });
        // WAL keeps readers (HTTP) unblocked while a writer holds the file.
        sqlite.pragma('journal_mode = WAL');
        sqlite.pragma('synchronous = NORMAL');
        // Checkpoints run off the event loop (walCheckpointer.ts), never inside a commit here.
        sqlite.pragma('wal_autocheckpoint = 0');
        return sqlite;
      },
    });
  }
  return new PostgresDialect({
    pool: async () => {
      // BIGINT columns hold epoch seconds and byte counts, well inside 2^53: read them as numbers.
      const types = new pg.TypeOverrides();
      types.setTypeParser(pg.types.builtins.INT8, 'text', Number);
      const pool = new pg.Pool({
        connectionString: location.url,
        max: options.poolSize ?? 10,
        types,
      });
      // An idle connection the server drops (restart, failover) is replaced on next use;
      // unhandled, its error would end the process.
      pool.on('error', (err) => {
        options.logger?.warn({ err: err.message }, 'PostgreSQL dropped an idle connection');
      });
      return pool;
    },
  });
}
