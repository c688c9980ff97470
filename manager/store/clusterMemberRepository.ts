/** Managers that share one broker, each alive while it keeps renewing its membership. */
export interface ClusterMember {
  memberId: string;
  /** Epoch milliseconds of the first renewal since it last left. */
  joinedAt: number;
  /** Epoch milliseconds after which the member counts as gone. */
  expiresAt: number;
}

export interface ClusterMemberRepository {
  /** Joins `group`, or stays in it, until `nowMs + ttlMs`. */
  renew(group: string, memberId: string, nowMs: number, ttlMs: number): Promise<void>;
  /** Members of `group` whose membership has not expired at `nowMs`, by member id. */
  live(group: string, nowMs: number): Promise<ClusterMember[]>;
  /** Leaves at once (a clean stop), so the others take over without waiting for expiry. */
  leave(group: string, memberId: string): Promise<void>;
}
