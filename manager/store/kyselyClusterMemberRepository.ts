import type { Kysely } from 'kysely';
import type { ClusterMember, ClusterMemberRepository } from './clusterMemberRepository';
import type { StoreSchema } from './storeSchema';

/** Rows of members gone this long are deleted on the next renewal of anyone in the group. */
const FORGET_AFTER_MS = 24 * 3600 * 1000;

export class KyselyClusterMemberRepository implements ClusterMemberRepository {
  constructor(private readonly db: Kysely<StoreSchema>) {}

  async renew(group: string, memberId: string, nowMs: number, ttlMs: number): Promise<void> {
    await this.db
      .insertInto('cluster_members')
      .values({
        group_name: group,
        member_id: memberId,
        joined_at: nowMs,
        expires_at: nowMs + ttlMs,
      })
      .onConflict((oc) =>
        oc.columns(['group_name', 'member_id']).doUpdateSet((eb) => ({
          expires_at: eb.ref('excluded.expires_at'),
          // A member that came back after expiring joins anew.
          joined_at: eb
            .case()
            .when('cluster_members.expires_at', '<', nowMs)
            .then(eb.ref('excluded.joined_at'))
            .else(eb.ref('cluster_members.joined_at'))
            .end(),
        })),
      )
      .execute();
    await this.db
      .deleteFrom('cluster_members')
      .where('group_name', '=', group)
      .where('expires_at', '<', nowMs - FORGET_AFTER_MS)
      .execute();
  }

  async live(group: string, nowMs: number): Promise<ClusterMember[]> {
    const rows = await this.db
      .selectFrom('cluster_members')
      .select(['member_id', 'joined_at', 'expires_at'])
      .where('group_name', '=', group)
      .where('expires_at', '>', nowMs)
      .orderBy('member_id')
      .execute();
    return rows.map((r) => ({
      memberId: r.member_id,
      joinedAt: r.joined_at,
      expiresAt: r.expires_at,
    }));
  }

  async leave(group: string, memberId: string): Promise<void> {
    await this.db
      .deleteFrom('cluster_members')
      .where('group_name', '=', group)
      .where('member_id', '=', memberId)
      .execute();
  }
}
