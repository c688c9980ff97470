/** The broker credential of each provisioned sign: the SHA-256 of its secret, and whether it is revoked. */
export interface SignCredentialRecord {
  deviceId: string;
  secretHash: string;
  issuedAt: number;
  revokedAt: number | null;
  /** Address the claim came from. */
  claimedFrom: string | null;
}

export interface SignCredentialRepository {
  /** Issues (or replaces: re-provisioning) the sign's credential; the old secret stops working. */
  issue(
    deviceId: string,
    secretHash: string,
    now: number,
    claimedFrom: string | null,
  ): Promise<void>;
  get(deviceId: string): Promise<SignCredentialRecord | undefined>;
  /** Many at once, for a fleet's status page. */
  getMany(deviceIds: string[]): Promise<Map<string, SignCredentialRecord>>;
  /** False when the sign has no live credential to revoke. */
  revoke(deviceId: string, now: number): Promise<boolean>;
  remove(deviceId: string): Promise<void>;
}
