/**
 * A real sign (SQLite cache, MQTT link, renderer) cut off from its manager:
 * it keeps counting down from the epoch times it has, marks the rows stale,
 * falls back to its timetable, and goes live again when the manager returns.
 * The sign's clock is moved by the test, so minutes pass in milliseconds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '../shared';
import { renderBoard } from '../device/render/renderBoard';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import {
  arrivalsData,
  buildSign,
  managerOnline,
  nowSeconds,
  STOP_ID,
  tempDir,
  TestManager,
  waitFor,
  type SignUnderTest,
} from './helpers/deviceFixtures';

describe('a sign cut off from its manager', () => {
  let broker: TestBroker;
  let temp: ReturnType<typeof tempDir>;
  let subject: SignUnderTest;
  let manager: TestManager;
  let offsetMs = 0;
  const now = () => Math.floor((Date.now() + offsetMs) / 1000);

  beforeEach(async () => {
    broker = await startBroker();
    temp = tempDir();
    offsetMs = 0;
    manager = await TestManager.connect(broker.url);
    subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      render: renderBoard,
      clock: () => Date.now() + offsetMs,
      config: { clockSync: 'trust', staleAfterSeconds: 180, predictionStaleSeconds: 90 },
    });
  });

  afterEach(async () => {
    await subject.sign.stop();
    await manager.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    temp.remove();
  });

  it('counts down, marks rows stale, falls back to the timetable, and recovers', async () => {
    const start = nowSeconds();
    await manager.publishAll(start);
    const live = { ...arrivalsData(start, [5, 12, 30]), feedTimestamp: start - 10 };
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), live);
    await manager.publish(
      'managerHeartbeat',
      topics.managerHeartbeat(),
      { checkedAt: start, feedTimestamp: start - 10, live: true },
      false,
    );
    const { sign } = subject;
    await sign.start();
    await waitFor('live', () => sign.state().view?.rows[0]?.time === live.arrivals[0]!.time);
    const times = live.arrivals.slice(0, 3).map((a) => a.time);

    await manager.close();
    await broker.close();
    await waitFor('cut off', () => !sign.state().connected);

    // A minute later: the same epoch times, counted down on the sign, not yet stale.
    offsetMs = 60_000;
    sign.tick();
    let view = sign.state().view!;
    expect(view.mode).toBe('live');
    expect(view.rows.map((r) => r.time)).toEqual(times);
    expect(view.rows.some((r) => r.stale)).toBe(false);

    // 100 s after the feed: predictions older than 90 s are marked stale.
    offsetMs = 100_000;
    sign.tick();
    view = sign.state().view!;
    expect(view.mode).toBe('live');
    expect(view.rows.every((r) => r.source === 'live' && r.stale === true)).toBe(true);

    // Past the fallback limit: the timetable from the cache, said to be scheduled.
    offsetMs = 181_000;
    sign.tick();
    view = sign.state().view!;
    expect(view.mode).toBe('scheduled');
    expect(view.rows.length).toBeGreaterThan(0);
    expect(view.rows.every((r) => r.source === 'scheduled' && r.time >= now())).toBe(true);
    expect(sign.state().mode).toBe('scheduled');

    // The manager returns with a fresh board.
    broker = await startBroker(broker.port);
    manager = await TestManager.connect(broker.url, 'test-manager-back');
    const back = { ...arrivalsData(now(), [3, 9]), feedTimestamp: now() - 5 };
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), back);
    await manager.publish('managerStatus', topics.managerStatus(), managerOnline());
    await waitFor('live again', () => sign.state().mode === 'live', 10_000);
    view = sign.state().view!;
    expect(view.rows.map((r) => r.time)).toEqual(back.arrivals.map((a) => a.time));
    expect(view.rows.some((r) => r.stale)).toBe(false);
  });
});
