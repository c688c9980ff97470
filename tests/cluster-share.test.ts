/**
 * How managers split the fleet: rendezvous hashing gives each a fair share
 * and moves only the share of a manager that comes or goes; while two
 * managers disagree about who is alive (one has not yet seen the other
 * join), the per-round claims in the store still give each stop to one of
 * them. Run on both engines with real stores.
 */
import { describe, expect, it } from 'vitest';
import { ClusterMembership } from '../manager/cluster/membership';
import { SharedFleet } from '../manager/cluster/publishShare';
import { ownerOf } from '../manager/cluster/rendezvous';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { describeEachEngine } from './helpers/storeEngines';
import { quietLogger } from './helpers/system';

const STOPS = Array.from({ length: 2386 }, (_, i) => `${1000 + i * 7}`);

describe('rendezvous hashing', () => {
  it('gives two or three managers close to equal shares', () => {
    for (const members of [
      ['a', 'b'],
      ['manager-1', 'manager-2', 'manager-3'],
    ]) {
      const counts = new Map<string, number>();
      for (const stop of STOPS) {
        const owner = ownerOf(`stop:${stop}`, members) ?? '';
        counts.set(owner, (counts.get(owner) ?? 0) + 1);
      }
      for (const member of members) {
        expect(counts.get(member) ?? 0).toBeGreaterThan((STOPS.length / members.length) * 0.9);
      }
    }
  });

  it('moves only the stops of the manager that leaves, and only to the others', () => {
    const before = new Map(STOPS.map((s) => [s, ownerOf(s, ['a', 'b', 'c'])]));
    for (const stop of STOPS) {
      const after = ownerOf(stop, ['a', 'c']);
      if (before.get(stop) !== 'b') expect(after).toBe(before.get(stop));
      else expect(['a', 'c']).toContain(after);
    }
    expect(ownerOf('x', [])).toBeUndefined();
  });
});

describeEachEngine('fleet share', ({ freshLocation }) => {
  async function member(store: SharedStore, memberId: string, leaseMs: number, now: () => number) {
    const membership = new ClusterMembership({
      members: store.clusterMembers,
      group: 'g',
      memberId,
      leaseMs,
      clock: now,
      logger: quietLogger,
    });
    await membership.start();
    const share = new SharedFleet({
      membership,
      rounds: store.stopRounds,
      deliveries: store.announcementDeliveries,
      roundMs: 1000,
      leases: store.leases,
      leaseMs,
      clock: now,
    });
    return { membership, share };
  }

  it('gives every stop to one manager per round while they disagree about who is alive', async () => {
    const location = await freshLocation();
    const [storeA, storeB] = [await openSharedStore(location), await openSharedStore(location)];
    let now = 1_900_000_000_000;
    const clock = () => now;
    // A minute-long lease: a renews (and so looks again) only every 20 s, so it has not seen b join.
    const a = await member(storeA, 'a', 60_000, clock);
    const b = await member(storeB, 'b', 60_000, clock);
    try {
      expect(a.membership.members()).toEqual(['a']);
      expect(b.membership.members()).toEqual(['a', 'b']);
      for (let round = 0; round < 3; round++) {
        now += 1000;
        // b first in even rounds, a first in odd ones.
        const order = round % 2 ? [a, b] : [b, a];
        const first = await order[0]?.share.claimStops(STOPS, now);
        const second = await order[1]?.share.claimStops(STOPS, now);
        const both = (first ?? []).filter((s) => new Set(second).has(s));
        expect(both).toEqual([]);
        expect((first ?? []).length + (second ?? []).length).toBe(STOPS.length);
      }
      // Without the claims, a's view (all stops) and b's (about half) would overlap by half.
      const aWouldPublish = STOPS.filter((s) => a.membership.owns(`stop:${s}`));
      const bWouldPublish = STOPS.filter((s) => b.membership.owns(`stop:${s}`));
      expect(aWouldPublish.filter((s) => bWouldPublish.includes(s)).length).toBeGreaterThan(1000);
    } finally {
      await a.membership.stop();
      await b.membership.stop();
      await storeA.close();
      await storeB.close();
    }
  });

  it('gives a fleet-wide job to one manager, and to the other once that one’s lease runs out', async () => {
    const location = await freshLocation();
    const [storeA, storeB] = [await openSharedStore(location), await openSharedStore(location)];
    let now = 1_900_000_000_000;
    const clock = () => now;
    const a = await member(storeA, 'a', 3_000, clock);
    const b = await member(storeB, 'b', 3_000, clock);
    try {
      expect(await a.share.leads('heartbeat')).toBe(true);
      expect(await b.share.leads('heartbeat')).toBe(false);
      now += 2_000;
      expect(await a.share.leads('heartbeat')).toBe(true);
      expect(await b.share.leads('other job')).toBe(true);
      // a stops calling (it died): b takes the job once a's last renewal has run out.
      now += 2_999;
      expect(await b.share.leads('heartbeat')).toBe(false);
      now += 2;
      expect(await b.share.leads('heartbeat')).toBe(true);
    } finally {
      await a.membership.stop();
      await b.membership.stop();
      await storeA.close();
      await storeB.close();
    }
  });

  it('hands a manager’s stops to the other once its membership runs out', async () => {
    const location = await freshLocation();
    const [storeA, storeB] = [await openSharedStore(location), await openSharedStore(location)];
    let now = 1_900_000_000_000;
    const clock = () => now;
    const a = await member(storeA, 'a', 3_000, clock);
    const b = await member(storeB, 'b', 3_000, clock);
    const changed: string[][] = [];
    b.membership.on('changed', (members) => changed.push(members));
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      now += 1000;
      const split = await b.share.claimStops(STOPS, now);
      expect(split.length).toBeLessThan(STOPS.length * 0.6);
      // a dies: it renews no more, and its last renewal stays in the store (stop() left
      // cleanly, so that renewal is put back). Past its lease, b's next renewal sees it gone.
      await a.membership.stop();
      await storeA.close();
      await storeB.clusterMembers.renew('g', 'a', now, 3_000);
      now += 3_001;
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(b.membership.members()).toEqual(['b']);
      expect(changed.at(-1)).toEqual(['b']);
      expect(await b.share.claimStops(STOPS, now)).toHaveLength(STOPS.length);
    } finally {
      await b.membership.stop();
      await storeB.close();
    }
  });
});
