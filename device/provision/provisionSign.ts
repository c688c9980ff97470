/**
 * Makes sure the sign holds its credentials before it starts: a factory-fresh
 * sign with a claim trades it once; a provisioned one keeps what it has until
 * it is given a different claim (re-provisioning).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { normalizeClaimCode, parseClaim } from '../../shared';
import { Backoff } from '../link/backoff';
import { claimCredentials, ClaimError } from './claimClient';
import { readCredentials, writeCredentials, type StoredCredentials } from './credentialsFile';

export interface ProvisionOptions {
  dataDir: string;
  /** The claim text (from the installer's QR code), if one was given. */
  claim: string | undefined;
  logger: Logger;
  clock?: () => number;
  /** Transient failures (no network yet, manager restarting) are retried this many times. */
  attempts?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export const claimHash = (code: string): string =>
  createHash('sha256').update(normalizeClaimCode(code)).digest('hex');

export async function ensureProvisioned(options: ProvisionOptions): Promise<StoredCredentials> {
  const { dataDir, logger } = options;
  const existing = readCredentials(dataDir);
  if (options.claim === undefined) {
    if (existing) return existing;
    throw new ClaimError('this sign is not provisioned: give it its claim (STOPSIGN_CLAIM)', true);
  }
  const claim = parseClaim(options.claim);
  const hash = claimHash(claim.code);
  if (existing?.claimHash === hash) return existing;
  const backoff = new Backoff({
    minMs: options.retryMinMs ?? 1000,
    maxMs: options.retryMaxMs ?? 60_000,
  });
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await claimCredentials(claim);
      const stored: StoredCredentials = {
        ...answer,
        claimHash: hash,
        managerUrl: claim.managerUrl,
        claimedAt: Math.floor((options.clock ?? Date.now)() / 1000),
      };
      writeCredentials(dataDir, stored);
      logger.info(
        { deviceId: answer.deviceId, stopId: answer.stopId },
        'provisioned: credentials claimed and saved',
      );
      return stored;
    } catch (err) {
      const fatal = err instanceof ClaimError && err.fatal;
      if (fatal || attempt >= attempts) throw err;
      const waitMs = backoff.next();
      logger.warn({ err: (err as Error).message, attempt, waitMs }, 'claim failed, retrying');
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}
