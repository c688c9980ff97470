/**
 * A singleton job (a rollout engine's tick, a sweep) on two managers sharing
 * one store: it runs on one of them at a time, never on both at once, and
 * moves to the other when the holder dies, once the lease has run out.
 */
import { afterEach, expect, it } from 'vitest';
import { SingletonJob } from '../manager/cluster/singletonJob';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { waitFor } from './helpers/deviceFixtures';
import { describeEachEngine } from './helpers/storeEngines';
import { quietLogger } from './helpers/system';

interface Run {
  holder: string;
  from: number;
  to: number;
}

describeEachEngine('singleton job', ({ freshLocation }) => {
  const open: SharedStore[] = [];
  const jobs: SingletonJob[] = [];

  afterEach(async () => {
    await Promise.all(jobs.splice(0).map((j) => j.stop({ release: false })));
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  /** Two managers (two stores on one location) ticking the same job every 20 ms. */
  async function twoManagers(leaseMs: number, runs: Run[]): Promise<SingletonJob[]> {
    const location = await freshLocation();
    const stores = [await openSharedStore(location), await openSharedStore(location)];
    open.push(...stores);
    return stores.map((store, i) => {
      const holder = `manager-${i}`;
      const job = new SingletonJob({
        leases: store.leases,
        name: 'rollout-engine',
        holder,
        leaseMs,
        intervalMs: 20,
        clock: Date.now,
        logger: quietLogger,
        run: async () => {
          const from = performance.now();
          await new Promise((resolve) => setTimeout(resolve, 5));
          runs.push({ holder, from, to: performance.now() });
        },
      });
      jobs.push(job);
      job.start();
      return job;
    });
  }

  it('runs on one manager only, and never on two at once', async () => {
    const runs: Run[] = [];
    await twoManagers(2_000, runs);
    await waitFor('20 runs', () => runs.length >= 20, 15_000);
    expect(new Set(runs.map((r) => r.holder)).size).toBe(1);
    const sorted = [...runs].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]?.from).toBeGreaterThanOrEqual(sorted[i - 1]?.to ?? Infinity);
    }
  });

  it('moves to the other manager once the holder dies and its lease runs out', async () => {
    const runs: Run[] = [];
    const managers = await twoManagers(600, runs);
    await waitFor('the first runs', () => runs.length >= 3, 15_000);
    const first = runs[0]?.holder ?? '';
    const dead = managers[Number(first.slice(-1))];
    // Dies: stops ticking and never gives the lease up.
    await dead?.stop({ release: false });
    const diedAt = performance.now();
    await waitFor('a run on the other manager', () => runs.some((r) => r.holder !== first), 15_000);
    const takeover = runs.find((r) => r.holder !== first);
    expect(takeover?.from).toBeGreaterThan(diedAt);
    expect(runs.filter((r) => r.holder === first).every((r) => r.to <= diedAt)).toBe(true);
  });

  it('moves at once when the holder stops cleanly and gives the lease up', async () => {
    const runs: Run[] = [];
    const managers = await twoManagers(60_000, runs);
    await waitFor('the first runs', () => runs.length >= 3, 15_000);
    const first = runs[0]?.holder ?? '';
    await managers[Number(first.slice(-1))]?.stop({ release: true });
    // With a minute-long lease, only the release lets the other take it within the wait.
    await waitFor('a run on the other manager', () => runs.some((r) => r.holder !== first), 5_000);
  });
});
