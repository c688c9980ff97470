/** One-time claim codes, kept as their SHA-256: a sign trades one for its credentials. */
export interface NewClaimCode {
  codeHash: string;
  deviceId: string;
  createdAt: number;
  expiresAt: number;
  /** Who asked for it (operator or token), for the audit trail. */
  createdBy: string;
}

export type ClaimOutcome =
  { ok: true; deviceId: string } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

export interface PendingClaim {
  deviceId: string;
  createdAt: number;
  expiresAt: number;
}

export interface ClaimCodeRepository {
  /** Issues codes; any earlier unused code of the same sign stops working. */
  issue(codes: NewClaimCode[]): Promise<void>;
  /** Uses the code up: only one caller ever gets ok for a code, even when two race. */
  consume(codeHash: string, now: number): Promise<ClaimOutcome>;
  /** The sign's unused, unexpired code, if any (its hash never leaves the store). */
  pending(deviceId: string, now: number): Promise<PendingClaim | undefined>;
  pendingMany(deviceIds: string[], now: number): Promise<Map<string, PendingClaim>>;
  /** Withdraws every code of a sign (revoked or deleted). */
  removeForSign(deviceId: string): Promise<void>;
}
