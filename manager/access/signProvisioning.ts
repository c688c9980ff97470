/**
 * A sign's life as the fleet sees it: created with a one-time claim code,
 * claimed by the sign itself (over TLS, once) for its own broker secret,
 * moved, re-provisioned (new code, old secret dead), revoked (cut off now,
 * refused from then on) and deleted (its retained topics cleared). The same
 * path serves the console, the API and the CLI.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import QRCode from 'qrcode';
import {
  deviceTopics,
  formatClaim,
  isClaimCode,
  type ClaimResponse,
  type RegisterSignRequest,
} from '../../shared';
import type { BrokerAccess } from '../broker/brokerAccess';
import type { ScheduleSource } from '../gtfs/types';
import type { FleetLink } from '../link/fleetLink';
import type { StopPublisher } from '../publish/stopPublisher';
import { claimCodeHash, newClaimCode, randomSecret, sha256Hex } from '../security/secrets';
import type { AnnouncementRepository } from '../store/announcementRepository';
import type { ClaimCodeRepository } from '../store/claimCodeRepository';
import type { SignCredentialRepository } from '../store/signCredentialRepository';
import type { SignRecord, SignRepository } from '../store/signRepository';
import type { AuditActor, AuditLog } from './auditLog';

export interface SignProvisioningOptions {
  signs: SignRepository;
  claimCodes: ClaimCodeRepository;
  signCredentials: SignCredentialRepository;
  announcements: AnnouncementRepository;
  schedule: ScheduleSource;
  publisher: StopPublisher;
  link: FleetLink;
  broker: BrokerAccess;
  audit: AuditLog;
  /** Epoch milliseconds. */
  clock: () => number;
  logger: Logger;
  claimTtlSeconds: number;
  /** Where signs reach the manager (the claim names it) and the CA they must find there. */
  managerUrl: () => string;
  managerCaFingerprint: string;
  /** What a claimed sign is told: the broker's URL and the CA its certificate chains to. */
  signBrokerUrl: string;
  brokerCaPem: string;
  /** Panel profiles a sign may be given (ids of panels/profiles/). */
  panelProfileIds: ReadonlySet<string>;
}

export interface IssuedClaim {
  /** Shown once; only its hash is kept. */
  code: string;
  expiresAt: number;
  /** The QR code's text: manager, code and CA fingerprint. */
  claim: string;
}

export type ProvisioningState = 'awaiting-claim' | 'unprovisioned' | 'active' | 'revoked';

export interface ProvisioningStatus {
  state: ProvisioningState;
  claimExpiresAt: number | null;
  credentialIssuedAt: number | null;
}

export class ProvisioningError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422,
    message: string,
  ) {
    super(message);
  }
}

export class SignProvisioning {
  constructor(private readonly options: SignProvisioningOptions) {}

  private now(): number {
    return Math.floor(this.options.clock() / 1000);
  }

  /**
   * Creates new signs (each with a claim code) or moves existing ones. Moves
   * and creations of one call land together or not at all only per sign; a
   * stop that is not in the timetable refuses the whole call first.
   */
  async register(
    who: AuditActor,
    requests: RegisterSignRequest[],
  ): Promise<{ sign: SignRecord; claim: IssuedClaim | null }[]> {
    const { signs, schedule, panelProfileIds } = this.options;
    const unknownProfiles = [
      ...new Set(requests.flatMap((r) => (r.panelProfile === undefined ? [] : [r.panelProfile]))),
    ].filter((id) => !panelProfileIds.has(id));
    if (unknownProfiles.length > 0) {
      throw new ProvisioningError(
        422,
        `no panel profile ${unknownProfiles.join(', ')}; known: ${[...panelProfileIds].sort().join(', ')}`,
      );
    }
    if (schedule.hasSchedule()) {
      const unknown = [...new Set(requests.map((r) => r.stopId))].filter((s) => !schedule.stop(s));
      if (unknown.length > 0) {
        throw new ProvisioningError(
          422,
          `stop ${unknown.join(', ')} is not in the imported schedule`,
        );
      }
    }
    const now = this.now();
    const results: { sign: SignRecord; claim: IssuedClaim | null }[] = [];
    const newCodes: { deviceId: string; code: string }[] = [];
    for (const request of requests) {
      const deviceId = request.deviceId ?? `sign-${randomBytes(4).toString('hex')}`;
      const before = await signs.get(deviceId);
      const sign = await signs.register(
        deviceId,
        request.stopId,
        request.label,
        now,
        request.panelProfile,
      );
      if (before) {
        if (before.stopId !== sign.stopId)
          await this.options.broker.signMoved(deviceId, sign.stopId);
        await this.options.audit.record(who, {
          action: 'sign.update',
          target: { kind: 'sign', id: deviceId },
          before: { stopId: before.stopId, label: before.label, panelProfile: before.panelProfile },
          after: { stopId: sign.stopId, label: sign.label, panelProfile: sign.panelProfile },
        });
        results.push({ sign, claim: null });
      } else {
        const code = newClaimCode();
        newCodes.push({ deviceId, code });
        results.push({ sign, claim: this.claimFor(code, now) });
        await this.options.audit.record(who, {
          action: 'sign.create',
          target: { kind: 'sign', id: deviceId },
          after: { stopId: sign.stopId, label: sign.label, panelProfile: sign.panelProfile },
        });
      }
    }
    await this.options.claimCodes.issue(
      newCodes.map(({ deviceId, code }) => ({
        codeHash: claimCodeHash(code),
        deviceId,
        createdAt: now,
        expiresAt: now + this.options.claimTtlSeconds,
        createdBy: who.actor,
      })),
    );
    // Configs go out at once; one publishing pass per stop would do for a large batch, but a pass is cheap.
    for (const { sign } of results.slice(0, 50)) await this.options.publisher.signChanged(sign);
    if (results.length > 50) await this.options.publisher.scheduleChanged();
    return results;
  }

  /**
   * A sign trades its claim code for its own broker secret. Only one caller
   * ever succeeds for a code; the answer says nothing about why a code failed
   * beyond "used or expired" vs "unknown", which the caller knew anyway.
   */
  async claim(code: string, address: string): Promise<ClaimResponse> {
    if (!isClaimCode(code)) throw new ProvisioningError(400, 'that is not a claim code');
    const now = this.now();
    const outcome = await this.options.claimCodes.consume(claimCodeHash(code), now);
    if (!outcome.ok) {
      await this.options.audit.record(
        { actorKind: 'anonymous', actor: 'claim', address },
        { action: 'sign.claim-refused', after: { reason: outcome.reason } },
      );
      throw new ProvisioningError(
        outcome.reason === 'unknown' ? 404 : 409,
        outcome.reason === 'unknown'
          ? 'unknown claim code'
          : `the claim code was ${outcome.reason === 'used' ? 'used already' : 'not used in time'}`,
      );
    }
    const sign = await this.options.signs.get(outcome.deviceId);
    if (!sign) throw new ProvisioningError(404, 'the sign of this claim code was deleted');
    const secret = randomSecret(32);
    await this.options.signCredentials.issue(sign.deviceId, sha256Hex(secret), now, address);
    await this.options.broker.signClaimed(sign.deviceId, sign.stopId, secret);
    await this.options.audit.record(
      { actorKind: 'sign', actor: sign.deviceId, address },
      { action: 'sign.claim', target: { kind: 'sign', id: sign.deviceId } },
    );
    await this.options.publisher.signChanged(sign);
    return {
      deviceId: sign.deviceId,
      stopId: sign.stopId,
      mqtt: {
        url: this.options.signBrokerUrl,
        username: sign.deviceId,
        password: secret,
        caPem: this.options.brokerCaPem,
      },
    };
  }

  /** A new claim code; the sign's current secret (if any) stops working now. */
  async reprovision(who: AuditActor, deviceId: string): Promise<IssuedClaim> {
    const sign = await this.requireSign(deviceId);
    const now = this.now();
    const hadCredential = await this.options.signCredentials.revoke(deviceId, now);
    await this.options.broker.signRevoked(deviceId);
    const code = newClaimCode();
    const expiresAt = now + this.options.claimTtlSeconds;
    await this.options.claimCodes.issue([
      { codeHash: claimCodeHash(code), deviceId, createdAt: now, expiresAt, createdBy: who.actor },
    ]);
    await this.options.audit.record(who, {
      action: 'sign.reprovision',
      target: { kind: 'sign', id: sign.deviceId },
      before: { credential: hadCredential ? 'active' : 'none' },
      after: { claimExpiresAt: expiresAt },
    });
    return this.claimFor(code, now);
  }

  async revoke(who: AuditActor, deviceId: string): Promise<void> {
    await this.requireSign(deviceId);
    const revoked = await this.options.signCredentials.revoke(deviceId, this.now());
    await this.options.claimCodes.removeForSign(deviceId);
    await this.options.broker.signRevoked(deviceId);
    await this.options.audit.record(who, {
      action: 'sign.revoke',
      target: { kind: 'sign', id: deviceId },
      before: { credential: revoked ? 'active' : 'none' },
      after: { credential: 'revoked' },
    });
  }

  async delete(who: AuditActor, deviceId: string): Promise<void> {
    const sign = await this.requireSign(deviceId);
    await this.options.broker.signRevoked(deviceId);
    await this.options.signCredentials.remove(deviceId);
    await this.options.claimCodes.removeForSign(deviceId);
    await this.options.announcements.withdrawFor({ deviceId });
    await this.options.signs.remove(deviceId);
    // Nothing of the sign stays retained for a newcomer under the same id to read.
    for (const topic of deviceTopics(deviceId)) await this.options.link.clearRetained(topic);
    await this.options.audit.record(who, {
      action: 'sign.delete',
      target: { kind: 'sign', id: deviceId },
      before: { stopId: sign.stopId, label: sign.label },
    });
  }

  async status(deviceIds: string[]): Promise<Map<string, ProvisioningStatus>> {
    const now = this.now();
    const credentials = await this.options.signCredentials.getMany(deviceIds);
    const pending = await this.options.claimCodes.pendingMany(deviceIds, now);
    const result = new Map<string, ProvisioningStatus>();
    for (const id of deviceIds) {
      const credential = credentials.get(id);
      const claim = pending.get(id);
      const state: ProvisioningState = claim
        ? 'awaiting-claim'
        : credential && credential.revokedAt === null
          ? 'active'
          : credential
            ? 'revoked'
            : 'unprovisioned';
      result.set(id, {
        state,
        claimExpiresAt: claim?.expiresAt ?? null,
        credentialIssuedAt: credential?.issuedAt ?? null,
      });
    }
    return result;
  }

  /** The claim as a QR code for the installer's label. */
  static qrPng(claim: string): Promise<Buffer> {
    return QRCode.toBuffer(claim, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 6 });
  }

  private claimFor(code: string, now: number): IssuedClaim {
    return {
      code,
      expiresAt: now + this.options.claimTtlSeconds,
      claim: formatClaim({
        managerUrl: this.options.managerUrl(),
        code,
        caFingerprint: this.options.managerCaFingerprint,
      }),
    };
  }

  private async requireSign(deviceId: string): Promise<SignRecord> {
    const sign = await this.options.signs.get(deviceId);
    if (!sign) throw new ProvisioningError(404, `no sign ${deviceId}`);
    return sign;
  }
}
