import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderBoard } from '../device/render/renderBoard';
import { decodeMessage, topics } from '../shared';
import { startBroker, unusedPort, type TestBroker } from './helpers/deviceBroker';
import {
  arrivalsData,
  buildSign,
  configData,
  DEVICE_ID,
  managerOnline,
  nowSeconds,
  STOP_ID,
  tempDir,
  TestManager,
  waitFor,
  isPageOf,
  type SignUnderTest,
} from './helpers/deviceFixtures';

/** A cut-off sign keeps its board this long (rows marked stale), then shows its own timetable. */
const QUICK_FALLBACK = { staleAfterSeconds: 5, predictionStaleSeconds: 5 };

describe('sign without its manager', () => {
  let broker: TestBroker | null;
  let temp: ReturnType<typeof tempDir>;
  const signs: SignUnderTest[] = [];
  const managers: TestManager[] = [];

  beforeEach(async () => {
    broker = await startBroker();
    temp = tempDir();
  });

  afterEach(async () => {
    for (const s of signs.splice(0)) await s.sign.stop();
    for (const m of managers.splice(0)) await m.close();
    await broker?.close();
    temp.remove();
  });

  async function liveSign(url: string): Promise<SignUnderTest> {
    const manager = await TestManager.connect(url);
    managers.push(manager);
    const scheduleFrom = nowSeconds() - 300;
    await manager.publishAll();
    // Schedule anchored a little in the past so the expected rows are easy to compute.
    const { scheduleData } = await import('./helpers/deviceFixtures');
    await manager.publish('stopSchedule', topics.stopSchedule(STOP_ID), scheduleData(scheduleFrom));
    const subject = buildSign({
      brokerUrl: url,
      dataDir: temp.dir,
      render: renderBoard,
      config: QUICK_FALLBACK,
    });
    signs.push(subject);
    await subject.sign.start();
    await waitFor('live mode', () => subject.sign.state().mode === 'live');
    await waitFor(
      'schedule cached',
      () => subject.cache.scheduleInfo()?.validFrom === scheduleFrom - 3600,
    );
    return subject;
  }

  /** The cached departures the board pages through (three pages of three rows). */
  const scheduledTimesFrom = (subject: SignUnderTest, now: number) =>
    subject.cache.upcomingDepartures(now, 9).map((d) => d.time);

  it('falls back to the cached schedule when the broker goes away, and returns to live after', async () => {
    const b = broker!;
    const subject = await liveSign(b.url);
    const { sign, panel, lines } = subject;
    const port = b.port;
    await b.close();
    broker = null;

    await waitFor('scheduled mode', () => sign.state().mode === 'scheduled', 10_000);
    const view = sign.state().view!;
    expect(sign.state().connected).toBe(false);
    expect(view.rows).toHaveLength(3);
    expect(view.rows.every((r) => r.source !== 'live')).toBe(true);
    expect(
      isPageOf(
        view.rows.map((r) => r.time),
        scheduledTimesFrom(subject, view.now),
        3,
      ),
    ).toBe(true);
    await waitFor(
      'scheduled frame shown',
      () => panel.frames.length > 0 && sign.state().lastFrame !== null,
    );
    await waitFor('retries with growing delays', () => {
      const delays = lines
        .filter((l) => l.msg === 'broker connection lost, retrying')
        .map((l) => l.retryInMs as number);
      return delays.length >= 3 && delays.at(-1)! > delays[0]!;
    });

    broker = await startBroker(port);
    await waitFor('reconnected', () => sign.state().connected, 5_000);
    // A new broker knows nothing yet: the sign stays on its schedule until the manager speaks.
    expect(sign.state().mode).toBe('scheduled');
    const manager = await TestManager.connect(broker.url, 'test-manager-2');
    managers.push(manager);
    await manager.publish('managerStatus', topics.managerStatus(), managerOnline());
    const fresh = arrivalsData(nowSeconds(), [3, 9]);
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), fresh);
    const freshTimes = JSON.stringify(fresh.arrivals.map((a) => a.time));
    await waitFor(
      'live again, with the new arrivals',
      () =>
        sign.state().mode === 'live' &&
        JSON.stringify(sign.state().view?.rows.map((r) => r.time)) === freshTimes,
      5_000,
    );
  });

  it('boots with no broker at all and shows scheduled departures from the persisted cache', async () => {
    const first = await liveSign(broker!.url);
    await first.sign.stop();
    signs.splice(0);
    await broker!.close();
    broker = null;

    const port = await unusedPort();
    const started = performance.now();
    const subject = buildSign({
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      dataDir: temp.dir,
      render: renderBoard,
      config: QUICK_FALLBACK,
    });
    signs.push(subject);
    await subject.sign.start();
    await waitFor('first frame', () => subject.panel.frames.length > 0, 5_000);
    // The cached arrivals count down until the fallback limit, then the timetable takes over.
    await waitFor('scheduled mode', () => subject.sign.state().mode === 'scheduled', 10_000);
    const state = subject.sign.state();
    expect(state.mode).toBe('scheduled');
    expect(state.connected).toBe(false);
    expect(state.view?.stopName).toEqual(configData().stopName);
    const shown = state.view?.rows.map((r) => r.time) ?? [];
    expect(isPageOf(shown, scheduledTimesFrom(subject, state.view!.now), 3)).toBe(true);
    expect(state.view?.rows.every((r) => r.source !== 'live')).toBe(true);
    expect(state.brightness).not.toBeNull();
    expect(state.firstFrameAfterMs).not.toBeNull();
    console.info(
      `offline boot: first frame ${state.firstFrameAfterMs} ms after start(), ${Math.round(performance.now() - started)} ms incl. construction; rss ${Math.round(process.memoryUsage.rss() / 1e6)} MB`,
    );
  });

  it('is marked offline by its last will when its connection dies, and online again after', async () => {
    const b = broker!;
    const subject = await liveSign(b.url);
    b.refused.add(DEVICE_ID);
    expect(b.cut(DEVICE_ID)).toBe(true);
    await waitFor('sign notices', () => !subject.sign.state().connected);

    // A watcher arriving later still learns the sign is offline: the will was retained.
    const watcher = await mqtt.connectAsync(b.url, { clientId: 'watcher', reconnectPeriod: 0 });
    const seen: { state: string; retain: boolean }[] = [];
    watcher.on('message', (_t, payload, packet) => {
      const decoded = decodeMessage('deviceStatus', payload);
      if (decoded.ok) seen.push({ state: decoded.message.data.state, retain: packet.retain });
    });
    try {
      await watcher.subscribeAsync(topics.deviceStatus(DEVICE_ID), { qos: 1 });
      await waitFor('retained offline status', () =>
        seen.some((s) => s.state === 'offline' && s.retain),
      );

      b.refused.delete(DEVICE_ID);
      await waitFor('online again', () => seen.at(-1)?.state === 'online', 5_000);

      // A clean stop says offline itself.
      await subject.sign.stop();
      await waitFor('offline on clean stop', () => seen.at(-1)?.state === 'offline');
    } finally {
      await watcher.endAsync(true);
    }
  });

  it('keeps showing frames while the panel fails, and reports it', async () => {
    const subject = await liveSign(broker!.url);
    const { sign, panel } = subject;
    const shown = sign.state().counters.framesShown;
    panel.failNextShows = 2;
    const now = nowSeconds();
    await managers[0]!.publish(
      'stopArrivals',
      topics.stopArrivals(STOP_ID),
      arrivalsData(now, [5]),
    );
    await waitFor('two failures', () => sign.state().counters.showFailures === 2, 5_000);
    await waitFor('panel recovers', () => sign.state().counters.framesShown > shown, 10_000);
    expect(sign.state().view?.rows).toHaveLength(1);
  });
});
