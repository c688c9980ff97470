/**
 * One rollout, two managers: both tick it, both hear every sign's reports,
 * both may be asked by an operator, and still each sign is offered the update
 * once and each stage starts once. On SQLite and on a real PostgreSQL, over a
 * real broker, with the signs' update agents answering through the protocol.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { bundleManifest, createRolloutRequest } from '../shared';
import { StoreMutex } from '../manager/cluster/storeMutex';
import { GtfsStore } from '../manager/gtfs/gtfsStore';
import { FleetLink } from '../manager/link/fleetLink';
import { RolloutEngine } from '../manager/rollout/rolloutEngine';
import type { BundleRecord } from '../manager/rollout/rolloutModel';
import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL, tinyGtfsZip } from './helpers/gtfsFixture';
import { SimulatedFleet } from './helpers/simulatedFleet';
import { describeEachEngine } from './helpers/storeEngines';
import { quietLogger } from './helpers/system';

const SIGNS = 30;
const now = () => Math.floor(Date.now() / 1000);

const bundle: BundleRecord = {
  bundleId: 'release-2.1.0',
  sha256: 'c'.repeat(64),
  size: 1000,
  manifest: bundleManifest.parse({
    format: 1,
    version: '2.1.0',
    minVersion: '1.0.0',
    hardware: ['led-192x64-v2'],
    arch: 'x64',
    runtime: { node: '22.23.3' },
    createdAt: now(),
    releaseNotes: 'test release',
    payload: { sha256: 'a'.repeat(64), size: 10 },
    totalSize: 5,
    files: [{ path: 'app/dist/sign.mjs', size: 5, sha256: 'b'.repeat(64), exec: false }],
  }),
  path: '/nowhere/release-2.1.0.bundle',
  uploadedAt: now(),
};

describeEachEngine('a rollout run by two managers', ({ freshLocation }) => {
  let dir: string;
  let schedule: GtfsStore;
  const undo: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-cluster-rollouts-'));
    const timetable = new Database(path.join(dir, 'timetable.db'));
    schedule = new GtfsStore(timetable);
    schedule.init();
    await schedule.importZip(tinyGtfsZip(), 'tiny');
    return () => timetable.close();
  });

  afterEach(async () => {
    for (const step of undo.splice(0).reverse()) await step();
  });

  async function manager(
    broker: TestBroker,
    store: SharedStore,
    id: string,
    locked: boolean,
  ): Promise<RolloutEngine> {
    const link = new FleetLink({
      url: broker.url,
      username: id,
      password: 'unused: the test broker lets anyone in',
      version: 'test',
      startedAt: now(),
      logger: quietLogger,
    });
    await link.start();
    undo.push(() => link.stop());
    const engine = new RolloutEngine({
      repo: store.rollouts,
      link,
      signs: store.signs,
      schedule,
      clock: Date.now,
      logger: quietLogger,
      // Both tick far more often than a real manager, so their passes overlap.
      tickMs: 15,
      bundleUrl: () => 'https://manager.invalid/bundle',
      mutex: locked
        ? new StoreMutex({
            leases: store.leases,
            name: 'managers:rollouts',
            holder: id,
            leaseMs: 5_000,
            clock: Date.now,
            retryMs: 5,
          })
        : undefined,
    });
    engine.start();
    undo.push(() => engine.stop());
    return engine;
  }

  it('offers each sign once and completes every stage once', async () => {
    const broker = await startBroker();
    undo.push(() => broker.close());
    const location = await freshLocation();
    const stores = [await openSharedStore(location), await openSharedStore(location)];
    undo.push(() => Promise.all(stores.map((s) => s.close())));
    const [first, second] = stores as [SharedStore, SharedStore];
    const deviceIds = Array.from({ length: SIGNS }, (_, i) => `pole-${i}`);
    for (const deviceId of deviceIds)
      await first.signs.register(deviceId, STOP_CENTRAL, undefined, now());
    await first.rollouts.saveBundle(bundle);

    const fleet = new SimulatedFleet(
      broker.url,
      deviceIds.map((deviceId) => ({ deviceId, password: 'unused', caPem: '' })),
      () => 'succeed',
    );
    await fleet.start();
    undo.push(() => fleet.stop());

    const engines = [
      await manager(broker, first, 'manager-0', true),
      await manager(broker, second, 'manager-1', true),
    ];
    const rollout = await engines[0]?.create(
      createRolloutRequest.parse({
        bundleId: bundle.bundleId,
        target: { all: true },
        stages: [10, 50, 100],
        successPercent: 100,
      }),
    );
    // An operator pausing and resuming through the other manager meanwhile.
    await engines[1]?.pause(rollout?.rolloutId ?? '');
    await engines[1]?.resume(rollout?.rolloutId ?? '');

    await waitFor(
      'the rollout to complete',
      async () => (await first.rollouts.rollout(rollout?.rolloutId ?? ''))?.state === 'completed',
      30_000,
    );
    // Give a late duplicate the time to show up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const offered = fleet.offers.map((o) => o.deviceId).sort();
    expect(offered).toEqual([...deviceIds].sort());
    const progress = await first.rollouts.signs(rollout?.rolloutId ?? '');
    expect(progress.every((s) => s.state === 'succeeded')).toBe(true);
  }, 60_000);
});
