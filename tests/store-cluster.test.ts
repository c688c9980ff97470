/**
 * The repositories managers coordinate through: membership, leases, publishing
 * rounds and announcement deliveries, on SQLite and on a real PostgreSQL. The
 * races are run for real on PostgreSQL: two stores (two managers' pools) on
 * one database asking at the same moment.
 */
import { expect, it } from 'vitest';
import type { AnnouncementDeliveryRepository } from '../manager/store/announcementDeliveryRepository';
import { openSharedStore } from '../manager/store/sharedStore';
import { describeEachEngine } from './helpers/storeEngines';

const T0 = 4_102_444_800_000; // 2100-01-01 in epoch ms: past 2^32 seconds and 2^53 is far.

describeEachEngine('cluster membership', ({ freshStore }) => {
  it('lists members until their time runs out, newest renewal counting', async () => {
    const { clusterMembers } = await freshStore();
    await clusterMembers.renew('managers', 'b', T0, 3000);
    await clusterMembers.renew('managers', 'a', T0 + 1000, 3000);
    expect((await clusterMembers.live('managers', T0 + 2000)).map((m) => m.memberId)).toEqual([
      'a',
      'b',
    ]);
    // b stopped renewing: gone once its three seconds are up, a still there.
    expect((await clusterMembers.live('managers', T0 + 3000)).map((m) => m.memberId)).toEqual([
      'a',
    ]);
    await clusterMembers.renew('managers', 'a', T0 + 3500, 3000);
    expect(await clusterMembers.live('managers', T0 + 6000)).toEqual([
      { memberId: 'a', joinedAt: T0 + 1000, expiresAt: T0 + 6500 },
    ]);
  });

  it('keeps groups apart and lets a member leave at once', async () => {
    const { clusterMembers } = await freshStore();
    await clusterMembers.renew('city-a', 'm1', T0, 10_000);
    await clusterMembers.renew('city-b', 'm1', T0, 10_000);
    await clusterMembers.leave('city-a', 'm1');
    expect(await clusterMembers.live('city-a', T0 + 1)).toEqual([]);
    expect((await clusterMembers.live('city-b', T0 + 1)).map((m) => m.memberId)).toEqual(['m1']);
  });

  it('counts a member that comes back after expiring as newly joined', async () => {
    const { clusterMembers } = await freshStore();
    await clusterMembers.renew('managers', 'a', T0, 1000);
    await clusterMembers.renew('managers', 'a', T0 + 5000, 1000);
    expect((await clusterMembers.live('managers', T0 + 5500))[0]?.joinedAt).toBe(T0 + 5000);
  });
});

describeEachEngine('leases', ({ engine, freshLocation, freshStore }) => {
  it('goes to one holder, is renewed by it, and passes on only once it lapses', async () => {
    const { leases } = await freshStore();
    expect(await leases.acquire('rollouts', 'a', T0, 5000)).toBe(true);
    expect(await leases.acquire('rollouts', 'b', T0 + 1000, 5000)).toBe(false);
    expect(await leases.acquire('rollouts', 'a', T0 + 4000, 5000)).toBe(true);
    // Renewed to T0 + 9000: b still waits at T0 + 8000.
    expect(await leases.acquire('rollouts', 'b', T0 + 8000, 5000)).toBe(false);
    expect(await leases.holder('rollouts', T0 + 8000)).toBe('a');
    expect(await leases.acquire('rollouts', 'b', T0 + 9000, 5000)).toBe(true);
    expect(await leases.holder('rollouts', T0 + 9000)).toBe('b');
    expect(await leases.holder('other', T0)).toBeUndefined();
  });

  it('is free at once when its holder releases it, and not when another tries to', async () => {
    const { leases } = await freshStore();
    await leases.acquire('sweep', 'a', T0, 60_000);
    await leases.release('sweep', 'b');
    expect(await leases.holder('sweep', T0 + 1)).toBe('a');
    await leases.release('sweep', 'a');
    expect(await leases.acquire('sweep', 'b', T0 + 2, 60_000)).toBe(true);
  });

  if (engine === 'postgres') {
    it('goes to exactly one of two managers asking at the same moment', async () => {
      const location = await freshLocation();
      const stores = await Promise.all([openSharedStore(location), openSharedStore(location)]);
      try {
        for (let round = 0; round < 20; round++) {
          const name = `job-${round}`;
          const results = await Promise.all(
            stores.flatMap((s, i) =>
              [0, 1, 2].map(() => s.leases.acquire(name, `m${i}`, T0, 5000)),
            ),
          );
          const winners = new Set(
            results.flatMap((won, k) => (won ? [`m${Math.floor(k / 3)}`] : [])),
          );
          expect(winners.size).toBe(1);
          expect(await stores[0]?.leases.holder(name, T0)).toBe([...winners][0]);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  }
});

describeEachEngine('publishing rounds', ({ engine, freshLocation, freshStore }) => {
  it('gives each stop to one member per round and again to whoever comes first next round', async () => {
    const { stopRounds } = await freshStore();
    expect((await stopRounds.claim(['s1', 's2', 's3'], 100, 'a')).sort()).toEqual([
      's1',
      's2',
      's3',
    ]);
    // b thinks it owns s2 and s4 in the same round: only s4 is free.
    expect(await stopRounds.claim(['s2', 's4'], 100, 'b')).toEqual(['s4']);
    // a asks again in its round (a second pass): it keeps what it holds.
    expect((await stopRounds.claim(['s1', 's2', 's4'], 100, 'a')).sort()).toEqual(['s1', 's2']);
    // Next round b comes first for s2.
    expect(await stopRounds.claim(['s2'], 101, 'b')).toEqual(['s2']);
    expect(await stopRounds.claim(['s1', 's2'], 101, 'a')).toEqual(['s1']);
    // A member whose clock lags a round behind gets nothing another holds for a later round.
    expect(await stopRounds.claim(['s2'], 100, 'a')).toEqual([]);
    expect(await stopRounds.claim([], 102, 'a')).toEqual([]);
  });

  it('claims thousands of stops at once, across statements', async () => {
    const { stopRounds } = await freshStore();
    const stops = Array.from({ length: 2386 }, (_, i) => `stop/${i}`);
    expect(await stopRounds.claim(stops, 7, 'a')).toHaveLength(2386);
    expect(await stopRounds.claim(stops, 7, 'b')).toEqual([]);
    expect(await stopRounds.claim(stops, 8, 'b')).toHaveLength(2386);
  });

  if (engine === 'postgres') {
    it('never gives a stop to both of two managers claiming at the same moment', async () => {
      const location = await freshLocation();
      const stores = await Promise.all([openSharedStore(location), openSharedStore(location)]);
      try {
        const stops = Array.from({ length: 300 }, (_, i) => `s${i}`);
        for (let round = 1; round <= 10; round++) {
          const [a, b] = await Promise.all(
            stores.map((s, i) => s.stopRounds.claim(stops, round, `m${i}`)),
          );
          const both = (a ?? []).filter((id) => (b ?? []).includes(id));
          expect(both).toEqual([]);
          expect((a ?? []).length + (b ?? []).length).toBe(stops.length);
        }
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  }
});

describeEachEngine('announcement deliveries', ({ engine, freshLocation, freshStore }) => {
  /** Records one topic; true when the caller should send it. */
  const recordOne = async (
    deliveries: AnnouncementDeliveryRepository,
    topic: string,
    announcementId: string,
  ): Promise<boolean> => (await deliveries.record([{ topic, announcementId }])).has(topic);

  it('says to send a change once, and not again when it is recorded already', async () => {
    const { announcementDeliveries: d } = await freshStore();
    const topic = 'stopsign/v1/stop/CEN/announcement';
    expect(await recordOne(d, topic, 'x')).toBe(true);
    expect(await recordOne(d, topic, 'x')).toBe(false);
    expect(await recordOne(d, topic, 'y')).toBe(true);
    expect(await recordOne(d, topic, '')).toBe(true);
    expect(await recordOne(d, topic, '')).toBe(false);
    // A topic never recorded is cleared once, too.
    expect(await recordOne(d, 'stopsign/v1/device/k1/announcement', '')).toBe(true);
  });

  it('records a district of thousands of topics at once and names only those that changed', async () => {
    const { announcementDeliveries: d } = await freshStore();
    const district = Array.from({ length: 1_200 }, (_, i) => ({
      topic: `stopsign/v2/stop/S${i}/announcement`,
      announcementId: 'flood',
    }));
    expect((await d.record(district)).size).toBe(1_200);
    expect((await d.record(district)).size).toBe(0);
    // Withdrawn on every stop but the first ten, which another notice still covers.
    const after = district.map((x, i) => ({ ...x, announcementId: i < 10 ? 'detour' : '' }));
    const changed = await d.record([...after, after[0]!]);
    expect(changed.size).toBe(1_200);
    expect([...(await d.carrying()).values()]).toEqual(Array(10).fill('detour'));
    await d.overwrite(district.slice(0, 600));
    expect((await d.carrying()).size).toBe(600);
  });

  it('lists the topics carrying an announcement; overwrite records whatever was there', async () => {
    const { announcementDeliveries: d } = await freshStore();
    await d.record([
      { topic: 't1', announcementId: 'a1' },
      { topic: 't2', announcementId: 'a2' },
    ]);
    await d.record([{ topic: 't2', announcementId: '' }]);
    await d.overwrite([
      { topic: 't3', announcementId: 'a3' },
      { topic: 't1', announcementId: 'a1' },
    ]);
    expect(await d.carrying()).toEqual(
      new Map([
        ['t1', 'a1'],
        ['t3', 'a3'],
      ]),
    );
    expect(await recordOne(d, 't3', 'a3')).toBe(false);
  });

  if (engine === 'postgres') {
    it('lets only one of two managers send the same change', async () => {
      const location = await freshLocation();
      const stores = await Promise.all([openSharedStore(location), openSharedStore(location)]);
      try {
        for (let i = 0; i < 30; i++) {
          const results = await Promise.all(
            stores.map((s) => recordOne(s.announcementDeliveries, `topic-${i % 3}`, `ann-${i}`)),
          );
          expect(results.filter(Boolean)).toHaveLength(1);
        }
        // Two managers recording the same district at once: each stop is sent by exactly one.
        const district = Array.from({ length: 1_500 }, (_, i) => ({
          topic: `district-${i}`,
          announcementId: 'storm',
        }));
        const [a, b] = await Promise.all(
          stores.map((s, n) =>
            s.announcementDeliveries.record(n === 0 ? district : [...district].reverse()),
          ),
        );
        expect(a!.size + b!.size).toBe(1_500);
        expect([...a!].filter((t) => b!.has(t))).toEqual([]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
  }
});
