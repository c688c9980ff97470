/** The rollout repository's contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import { bundleManifest, createRolloutRequest } from '../shared';
import type { BundleRecord, Rollout, SignProgress } from '../manager/rollout/rolloutModel';
import { assignStages } from '../manager/rollout/rolloutPlanner';
import { describeEachEngine } from './helpers/storeEngines';

// Past 2038, to catch 32-bit epoch columns.
const LATE = 2_200_000_000;

const bundle = (id: string, sha: string): BundleRecord => ({
  bundleId: id,
  sha256: sha.repeat(64),
  size: 3_000_000_000,
  manifest: bundleManifest.parse({
    format: 1,
    version: '2.1.0',
    minVersion: '2.0.0',
    hardware: ['led-192x64-v2'],
    arch: 'arm64',
    runtime: { node: '22.23.3' },
    createdAt: LATE,
    releaseNotes: 'Fahrplan-Anzeige 改进',
    payload: { sha256: 'a'.repeat(64), size: 10 },
    totalSize: 5,
    files: [{ path: 'app/dist/sign.mjs', size: 5, sha256: 'b'.repeat(64), exec: false }],
  }),
  path: `/var/lib/stopsign-manager/bundles/${id}.bundle`,
  uploadedAt: LATE,
});

const rollout = (id: string, state: Rollout['state'] = 'running'): Rollout => ({
  rolloutId: id,
  bundleId: 'b1',
  version: '2.1.0',
  spec: createRolloutRequest.parse({
    bundleId: 'b1',
    target: { stopIds: ['CEN'] },
    maintenanceWindow: { start: '01:00', end: '04:00' },
  }),
  state,
  stage: 0,
  reason: null,
  createdAt: LATE,
  updatedAt: LATE,
});

const targets = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ deviceId: `pole-${i}`, stopId: 'CEN' }));

describeEachEngine('rollout repository', ({ freshStore }) => {
  it('keeps bundles whole, finds them by id and by hash, and refuses a second copy', async () => {
    const { rollouts } = await freshStore();
    await rollouts.saveBundle(bundle('b1', 'c'));
    await rollouts.saveBundle(bundle('b2', 'd'));
    expect(await rollouts.bundle('b1')).toEqual(bundle('b1', 'c'));
    expect((await rollouts.bundleBySha256('d'.repeat(64)))?.bundleId).toBe('b2');
    expect(await rollouts.bundle('nope')).toBeUndefined();
    expect((await rollouts.bundles()).map((b) => b.bundleId)).toEqual(['b1', 'b2']);
    await expect(rollouts.saveBundle(bundle('b3', 'c'))).rejects.toThrow();
  });

  it('stores a rollout with all its signs and saves changes together', async () => {
    const { rollouts } = await freshStore();
    await rollouts.saveBundle(bundle('b1', 'c'));
    const signs = assignStages('r1', targets(1200), [1, 10, 100]);
    await rollouts.createRollout(rollout('r1'), signs);
    expect(await rollouts.rollout('r1')).toEqual(rollout('r1'));
    const stored = await rollouts.signs('r1');
    expect(stored).toHaveLength(1200);
    expect(stored.filter((s) => s.stage === 0)).toHaveLength(12);

    const first = stored[0] as SignProgress;
    const offered: SignProgress = {
      ...first,
      state: 'failed',
      offerId: 'offer-1',
      offeredAt: LATE,
      deadlineAt: LATE + 60,
      finishedAt: LATE + 61,
      reason: 'deadline',
      detail: 'no outcome within 60 s — 无响应',
      bootedVersion: '2.0.0',
      attempts: 1,
    };
    await rollouts.save({ ...rollout('r1', 'halted'), reason: '1 of 12 failed', stage: 1 }, [
      offered,
    ]);
    expect(await rollouts.rollout('r1')).toMatchObject({
      state: 'halted',
      stage: 1,
      reason: '1 of 12 failed',
    });
    expect((await rollouts.signs('r1')).find((s) => s.deviceId === first.deviceId)).toEqual(
      offered,
    );
  });

  it('lists active rollouts and the records of a sign in them', async () => {
    const { rollouts } = await freshStore();
    await rollouts.saveBundle(bundle('b1', 'c'));
    for (const [id, state] of [
      ['r1', 'running'],
      ['r2', 'completed'],
      ['r3', 'paused'],
    ] as const) {
      await rollouts.createRollout(rollout(id, state), assignStages(id, targets(3), [100]));
    }
    expect((await rollouts.activeRollouts()).map((r) => r.rolloutId).sort()).toEqual(['r1', 'r3']);
    expect((await rollouts.rollouts()).map((r) => r.rolloutId).sort()).toEqual(['r1', 'r2', 'r3']);
    const records = await rollouts.activeSignRecords('pole-1');
    expect(records.map((r) => r.rolloutId).sort()).toEqual(['r1', 'r3']);
    expect(await rollouts.activeSignRecords('pole-9')).toEqual([]);
    expect(await rollouts.rollout('r9')).toBeUndefined();
  });
});
