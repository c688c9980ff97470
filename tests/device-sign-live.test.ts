import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { brightnessAt } from '../device/board/brightness';
import { framesEqual } from '../device/render/frame';
import { frameToPng, pngToFrame } from '../device/render/png';
import { renderBoard } from '../device/render/renderBoard';
import { decodeMessage, maxPayloadBytes, topics, type TopicKind } from '../shared';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import {
  announcement,
  arrivalsData,
  buildSign,
  configData,
  DEVICE_ID,
  nowSeconds,
  STOP_ID,
  tempDir,
  TestManager,
  waitFor,
  isPageOf,
  type SignUnderTest,
} from './helpers/deviceFixtures';

describe('sign with a live manager', () => {
  let broker: TestBroker;
  let temp: ReturnType<typeof tempDir>;
  let manager: TestManager;
  let subject: SignUnderTest;
  const watchers: MqttClient[] = [];

  beforeEach(async () => {
    broker = await startBroker();
    temp = tempDir();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    subject = buildSign({
      brokerUrl: broker.url,
      dataDir: temp.dir,
      render: renderBoard,
      toPng: (frame) => frameToPng(frame),
    });
  });

  afterEach(async () => {
    await subject.sign.stop();
    for (const w of watchers.splice(0)) await w.endAsync(true);
    await manager.close();
    await broker.close();
    temp.remove();
  });

  async function watch(
    topic: string,
  ): Promise<{ messages: { payload: Buffer; retain: boolean }[] }> {
    const client = await mqtt.connectAsync(broker.url, {
      clientId: `watcher-${watchers.length}`,
      reconnectPeriod: 0,
    });
    watchers.push(client);
    const messages: { payload: Buffer; retain: boolean }[] = [];
    client.on('message', (_t, payload, packet) =>
      messages.push({ payload, retain: packet.retain }),
    );
    await client.subscribeAsync(topic, { qos: 1 });
    return { messages };
  }

  const view = () => subject.sign.state().view;

  it('goes live from retained messages and shows the arrivals on the panel', async () => {
    const { sign, panel } = subject;
    await sign.start();
    await waitFor('live mode', () => sign.state().mode === 'live');
    await waitFor(
      'a frame on the panel',
      () => panel.frames.length > 0 && sign.state().lastFrame !== null,
    );

    const current = view();
    // Four arrivals on three rows: the board pages through them.
    const expected = arrivalsData(0).arrivals;
    const shown = (current?.rows ?? []).map((r) => [r.route, r.headsign.en, r.source]);
    expect(
      isPageOf(
        shown,
        expected.map((a) => [a.route, a.headsign.en, 'live']),
        3,
      ),
      JSON.stringify(shown),
    ).toBe(true);
    expect(current?.stopName).toEqual(configData().stopName);
    const state = sign.state();
    expect(state.connected).toBe(true);
    expect(state.managerOnline).toBe(true);
    expect(state.lastFrame && framesEqual(state.lastFrame, panel.frames.at(-1)!)).toBe(true);
    expect(state.lastFrame).toMatchObject({ width: 192, height: 64 });
    expect(panel.brightness.at(-1)).toBe(
      brightnessAt(Date.now(), configData().brightness, 'Asia/Hong_Kong'),
    );
    expect(subject.cache.lastArrivals()?.stopId).toBe(STOP_ID);
  });

  it('publishes its status and a PNG of what the glass shows, retained', async () => {
    const status = await watch(topics.deviceStatus(DEVICE_ID));
    const frames = await watch(topics.deviceFrame(DEVICE_ID));
    const { sign, panel } = subject;
    await sign.start();
    await waitFor('live status', () =>
      status.messages.some((m) => {
        const d = decodeMessage('deviceStatus', m.payload);
        return d.ok && d.message.data.mode === 'live' && d.message.data.state === 'online';
      }),
    );
    await waitFor('frame upload', () => frames.messages.length > 0);
    const decoded = decodeMessage('deviceFrame', frames.messages[0]!.payload);
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    const uploaded = await pngToFrame(Buffer.from(decoded.message.data.png, 'base64'));
    expect(uploaded && panel.frames.some((f) => framesEqual(f, uploaded))).toBe(true);

    const last = decodeMessage('deviceStatus', status.messages.at(-1)!.payload);
    expect(last.ok && last.message.data).toMatchObject({
      deviceId: DEVICE_ID,
      stopId: STOP_ID,
      firmware: expect.any(String) as unknown,
      panel: { ok: true },
    });
    expect(last.ok && last.message.data.rssBytes).toBeGreaterThan(0);
  });

  it('rejects and counts bad messages on every subscribed topic, and keeps rendering', async () => {
    const { sign, link, lines } = subject;
    await sign.start();
    await waitFor('live mode', () => sign.state().mode === 'live');

    const subscribed: [TopicKind, string][] = [
      ['deviceConfig', topics.deviceConfig(DEVICE_ID)],
      ['deviceAnnouncement', topics.deviceAnnouncement(DEVICE_ID)],
      ['managerStatus', topics.managerStatus()],
      ['stopArrivals', topics.stopArrivals(STOP_ID)],
      ['stopSchedule', topics.stopSchedule(STOP_ID)],
      ['stopAnnouncement', topics.stopAnnouncement(STOP_ID)],
    ];
    const envelope = (v: number, data: unknown) =>
      JSON.stringify({ v, id: 'x1', sentAt: Date.now(), data });
    for (const [kind, topic] of subscribed) {
      await manager.raw(topic, '{"v":1, this is not json');
      await manager.raw(topic, envelope(2, {}));
      await manager.raw(topic, Buffer.alloc(maxPayloadBytes[kind] + 1, 0x20));
      await manager.raw(topic, envelope(1, { unexpected: true }));
    }
    await waitFor(
      'all rejections counted',
      () => Object.values(link.rejections()).reduce((a, b) => a + b, 0) >= 24,
    );
    const expected: Record<string, number> = {};
    for (const [kind] of subscribed) {
      for (const reason of ['not-json', 'bad-version', 'oversized', 'invalid'])
        expected[`${kind}:${reason}`] = 1;
    }
    expect(link.rejections()).toEqual(expected);
    expect(sign.state().rejected).toEqual(expected);
    expect(
      lines.filter((l) => l.msg === 'rejected inbound message' && l.level === 40),
    ).toHaveLength(24);

    // Still alive: a valid update after the garbage shows up on the glass.
    const shownBefore = sign.state().counters.framesShown;
    const later = arrivalsData(nowSeconds(), [1, 3]);
    later.arrivals[0]!.route = '42X';
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), later);
    await waitFor('new arrivals on the board', () => view()?.rows[0]?.route === '42X');
    await waitFor('new frame shown', () => sign.state().counters.framesShown > shownBefore);
    expect(sign.state().mode).toBe('live');
  });

  it('shows only current announcements and drops one whose retained message is cleared', async () => {
    const { sign } = subject;
    await sign.start();
    await waitFor('live mode', () => sign.state().mode === 'live');
    const now = nowSeconds();
    const expired = announcement({
      announcementId: 'old',
      priority: 'emergency',
      expiresAt: now - 5,
    });
    const info = announcement({
      announcementId: 'info',
      text: { en: 'Info' },
      expiresAt: now + 600,
    });
    const warning = announcement({
      announcementId: 'warn',
      priority: 'warning',
      text: { en: 'Diversion' },
      expiresAt: now + 600,
    });

    await manager.publish('stopAnnouncement', topics.stopAnnouncement(STOP_ID), expired);
    await manager.publish('deviceAnnouncement', topics.deviceAnnouncement(DEVICE_ID), info);
    // The expired one is an emergency and would outrank the info if it were shown.
    await waitFor('info announcement', () => view()?.announcement?.text.en === 'Info');

    await manager.publish('stopAnnouncement', topics.stopAnnouncement(STOP_ID), warning);
    await waitFor('warning announcement', () => view()?.announcement?.priority === 'warning');

    await manager.raw(topics.stopAnnouncement(STOP_ID), '', true);
    await waitFor('warning cleared', () => view()?.announcement?.text.en === 'Info');
    await manager.raw(topics.deviceAnnouncement(DEVICE_ID), '', true);
    await waitFor('no announcement', () => view() !== null && view()?.announcement === undefined);
    expect(subject.cache.storedAnnouncements(nowSeconds())).toEqual([]);
  });

  it('follows a new stop when its config changes', async () => {
    const { sign } = subject;
    await sign.start();
    await waitFor('live mode', () => sign.state().mode === 'live');
    await manager.publish(
      'deviceConfig',
      topics.deviceConfig(DEVICE_ID),
      configData({ stopId: 'other' }),
    );
    await waitFor('nothing known for the new stop', () => sign.state().mode === 'none');
    const other = { ...arrivalsData(nowSeconds(), [4]), stopId: 'other' };
    await manager.publish('stopArrivals', topics.stopArrivals('other'), other);
    await waitFor(
      'live at the new stop',
      () => sign.state().mode === 'live' && view()?.rows.length === 1,
    );
    // Old stop's topics are no longer followed.
    await manager.publish(
      'stopArrivals',
      topics.stopArrivals(STOP_ID),
      arrivalsData(nowSeconds(), [1, 2, 3]),
    );
    await manager.publish('stopArrivals', topics.stopArrivals('other'), { ...other, arrivals: [] });
    await waitFor('empty live board', () => view()?.rows.length === 0);
    expect(sign.state().mode).toBe('live');
  });

  it('stop() undoes start(): timers, cron job, link, panel and cache', async () => {
    const { sign, panel, scheduler, cache, link } = subject;
    await sign.start();
    await waitFor('connected', () => sign.state().connected);
    expect(scheduler.jobs.map((j) => [j.expression, j.stopped])).toEqual([['* * * * *', false]]);
    await sign.stop();
    expect(scheduler.jobs.every((j) => j.stopped)).toBe(true);
    expect(panel.running).toBe(false);
    expect(link.isConnected()).toBe(false);
    expect(() => cache.config()).toThrow(/not open/);
    const ticks = sign.state().counters.ticks;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(sign.state().counters.ticks).toBe(ticks);
  });
});
