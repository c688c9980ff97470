/** The rollout planner's rules as pure functions: stages, limits, windows, deadlines, thresholds. */
import { describe, expect, it } from 'vitest';
import { createRolloutRequest, type CreateRolloutRequest } from '../shared';
import type { Rollout, SignProgress } from '../manager/rollout/rolloutModel';
import {
  applyReport,
  assignStages,
  insideWindow,
  planRollout,
} from '../manager/rollout/rolloutPlanner';

function rolloutOf(request: Partial<CreateRolloutRequest>): Rollout {
  return {
    rolloutId: 'r1',
    bundleId: 'b1',
    version: '2.0.0',
    spec: createRolloutRequest.parse({ bundleId: 'b1', target: { all: true }, ...request }),
    state: 'running',
    stage: 0,
    reason: null,
    createdAt: 0,
    updatedAt: 0,
  };
}

const signs = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ deviceId: `s${i}`, stopId: i % 2 ? 'A' : 'B' }));
let offers = 0;
const ctx = (now: number, inWindow = (_s: SignProgress) => true) => ({
  now,
  inWindow,
  newOfferId: () => `o${(offers += 1)}`,
});

describe('rollout planner', () => {
  it('splits the target into cumulative stages, the same way every time', () => {
    const a = assignStages('r1', signs(200), [1, 10, 50, 100]);
    const count = (stage: number) => a.filter((s) => s.stage === stage).length;
    expect([count(0), count(1), count(2), count(3)]).toEqual([2, 18, 80, 100]);
    expect(assignStages('r1', signs(200), [1, 10, 50, 100])).toEqual(a);
    // A tiny fleet still gets a canary of one.
    expect(assignStages('r1', signs(3), [1, 100]).filter((s) => s.stage === 0)).toHaveLength(1);
  });

  it('offers no more downloads at once than allowed, and only inside the window', () => {
    const rollout = rolloutOf({ stages: [100], maxConcurrentDownloads: 4 });
    const all = assignStages('r1', signs(10), [100]);
    let plan = planRollout(
      rollout,
      all,
      ctx(1000, (s) => s.stopId === 'A'),
    );
    expect(plan.offer).toHaveLength(4);
    expect(plan.offer.every((s) => s.stopId === 'A' && s.deadlineAt === 1000 + 6 * 3600)).toBe(
      true,
    );
    const merged = all.map((s) => plan.changed.find((c) => c.deviceId === s.deviceId) ?? s);
    plan = planRollout(plan.rollout, merged, ctx(1001));
    expect(plan.offer).toHaveLength(0);
  });

  it('fails a silent sign at its deadline and withdraws its offer', () => {
    const rollout = rolloutOf({ stages: [100], deadlineSeconds: 60, failureLimit: { count: 5 } });
    const [one] = planRollout(rollout, assignStages('r1', signs(1), [100]), ctx(0)).changed;
    expect(one?.state).toBe('offered');
    const before = planRollout(rollout, [one as SignProgress], ctx(59));
    expect(before.changed).toEqual([]);
    const after = planRollout(rollout, [one as SignProgress], ctx(60));
    expect(after.changed[0]).toMatchObject({ state: 'failed', reason: 'deadline' });
    expect(after.withdraw).toHaveLength(1);
  });

  it('halts when a finished stage falls short of the success threshold', () => {
    const rollout = rolloutOf({
      stages: [50, 100],
      successPercent: 80,
      failureLimit: { count: 99 },
    });
    const all = assignStages('r1', signs(4), [50, 100]).map((s, i) => ({
      ...s,
      state: s.stage === 0 ? (i === 0 ? 'failed' : 'succeeded') : 'pending',
    })) as SignProgress[];
    const plan = planRollout(rollout, all, ctx(10));
    expect(plan.rollout.state).toBe('halted');
    expect(plan.rollout.reason).toBe('stage 1: 1 of 2 signs succeeded (50%), 80% needed');
    expect(plan.offer).toEqual([]);
  });

  it('counts success only when the sign boots the new version after its trial', () => {
    const sign = {
      ...assignStages('r1', signs(1), [100])[0],
      state: 'trial',
      offerId: 'o1',
    } as SignProgress;
    const outcome = {
      offerId: 'o1',
      rolloutId: 'r1',
      version: '2.0.0',
      result: 'committed' as const,
      at: 5,
    };
    const status = { deviceId: 's0', phase: 'idle' as const, updatedAt: 5, lastOutcome: outcome };
    expect(
      applyReport(
        sign,
        { ...status, installedVersion: '2.0.0', bootedVersion: '2.0.0' },
        '2.0.0',
        5,
      )?.state,
    ).toBe('succeeded');
    expect(
      applyReport(
        sign,
        { ...status, installedVersion: '1.0.0', bootedVersion: '1.0.0' },
        '2.0.0',
        5,
      ),
    ).toMatchObject({ state: 'failed', detail: 'reported committed, but boots 1.0.0' });
    // A download finishing is progress, not success.
    expect(
      applyReport(
        sign,
        {
          deviceId: 's0',
          phase: 'installing',
          installedVersion: '1.0.0',
          offerId: 'o1',
          updatedAt: 5,
        },
        '2.0.0',
        5,
      )?.state,
    ).toBe('installing');
  });

  it('knows maintenance windows that cross midnight', () => {
    const w = { start: '23:00', end: '04:00' };
    expect(insideWindow(w, 23 * 60 + 30)).toBe(true);
    expect(insideWindow(w, 3 * 60 + 59)).toBe(true);
    expect(insideWindow(w, 4 * 60)).toBe(false);
    expect(insideWindow({ start: '01:00', end: '04:00' }, 0)).toBe(false);
    expect(insideWindow(undefined, 720)).toBe(true);
  });
});
