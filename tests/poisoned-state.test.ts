/**
 * No poisoned state sticks. A sign refuses (and counts) messages whose times
 * no clock could believe, even ones its cache kept from before; it believes
 * "manager offline" only from the manager it knows. The manager notices a
 * stranger's retained message on its own topics and puts its state back
 * within the reconcile interval. Real brokers throughout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignCache } from '../device/cache/signCache';
import { decodeMessage, encodeMessage, topics, type TopicKind } from '../shared';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import {
  arrivalsData,
  buildSign,
  configData,
  DEVICE_ID,
  nowSeconds,
  STOP_ID,
  TestManager,
  tempDir,
  waitFor,
  type SignUnderTest,
} from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { Mosquitto, startTestManager, type RunningManager } from './helpers/system';
import { testTls } from './helpers/testTls';

const YEAR_2100 = Date.UTC(2100, 0, 1) / 1000;

describe('a sign facing implausible times', () => {
  let broker: TestBroker;
  let manager: TestManager;
  let tmp: { dir: string; remove(): void };
  const signs: SignUnderTest[] = [];

  beforeAll(async () => {
    broker = await startBroker();
  });
  afterEach(async () => {
    for (const s of signs.splice(0)) await s.sign.stop();
    await manager?.close();
    tmp?.remove();
  });
  afterAll(async () => broker.close());

  async function liveSign(): Promise<SignUnderTest> {
    const subject = buildSign({ brokerUrl: broker.url, dataDir: tmp.dir });
    signs.push(subject);
    await subject.sign.start();
    return subject;
  }

  it('refuses arrivals from the year 2100, counts them, and takes the real ones after', async () => {
    tmp = tempDir();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    const { sign } = await liveSign();
    await waitFor('live', () => sign.state().mode === 'live');

    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), arrivalsData(YEAR_2100));
    await waitFor(
      'the poison counted',
      () => sign.state().rejected['stopArrivals:implausible-time'] === 1,
    );
    const real = arrivalsData(nowSeconds(), [4, 11]);
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), real);
    await waitFor(
      'the real arrivals shown',
      () => sign.state().view?.rows[0]?.time === real.arrivals[0]?.time,
    );
  });

  it('drops arrivals from 2100 that a cache kept from before, across a reboot', async () => {
    tmp = tempDir();
    const cache = new SignCache({ path: path.join(tmp.dir, 'sign.db') });
    cache.open();
    cache.saveConfig(configData());
    cache.saveArrivals(arrivalsData(YEAR_2100));
    cache.close();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    const { sign, lines } = await liveSign();
    expect(lines.some((l) => l.msg === 'cached arrivals dated in the future dropped')).toBe(true);
    const real = arrivalsData(nowSeconds(), [6]);
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), real);
    await waitFor(
      'the real arrivals shown',
      () => sign.state().view?.rows[0]?.time === real.arrivals[0]?.time,
    );
  });

  it("judges times by the manager's clock once two heartbeats agree that its own runs an hour behind", async () => {
    tmp = tempDir();
    manager = await TestManager.connect(broker.url);
    const hourBehind = () => Date.now() - 3_600_000;
    const subject = buildSign({ brokerUrl: broker.url, dataDir: tmp.dir, clock: hourBehind });
    signs.push(subject);
    const { sign } = subject;
    await sign.start();
    // Dated an hour ahead of the sign's clock, with nothing to vouch for the manager's: refused.
    await manager.publishAll();
    await waitFor(
      'the config refused as implausible',
      () => (sign.state().rejected['deviceConfig:implausible-time'] ?? 0) >= 1,
    );
    expect(sign.state().mode).not.toBe('live');
    const heartbeat = () =>
      manager.publish(
        'managerHeartbeat',
        topics.managerHeartbeat(),
        { checkedAt: nowSeconds(), live: false },
        false,
      );
    await heartbeat();
    await heartbeat();
    await waitFor('the clock reported as off', () =>
      /differs from the manager's by -3600 s/.test(sign.state().clock.reason ?? ''),
    );
    await manager.publishAll();
    await waitFor('live on the manager’s messages', () => sign.state().mode === 'live');
    // Countdowns would be a lie on this clock: the board shows clock times.
    expect(sign.state().clock.synced).toBe(false);
    expect(sign.state().view?.clockSynced).toBe(false);
  });

  it("ignores a stranger's retained 'manager offline' and stays live", async () => {
    tmp = tempDir();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    const { sign } = await liveSign();
    await waitFor('live', () => sign.state().mode === 'live');
    const stranger = await TestManager.connect(broker.url, 'stranger');
    await stranger.publish('managerStatus', topics.managerStatus(), {
      state: 'offline',
      startedAt: nowSeconds() - 999,
      version: 'forged',
    });
    await waitFor(
      'the forgery counted',
      () => sign.state().rejected['managerStatus:not-from-manager'] === 1,
    );
    expect(sign.state().managerOnline).toBe(true);
    expect(sign.state().mode).toBe('live');
    await stranger.close();
  });
});

/**
 * On an external broker other writers exist: a stale manager, an operator's
 * mosquitto_pub with the manager's account, anyone where access control is
 * left to the broker's operator (EMQX); a broker restart loses retained state
 * too. The manager puts its state back. (The embedded broker refuses
 * strangers outright: see broker-attacks.)
 */
describe('the manager reconciling its retained state', () => {
  let dir: string;
  let running: RunningManager;
  let mosquitto: Mosquitto;
  const RECONCILE_SECONDS = 2;
  /** Someone holding the manager's broker account, but not the manager (no MQTT 5 `manager` property). */
  const strangerOptions = (clientId: string) => ({
    clientId,
    username: mosquitto.adminUser,
    password: mosquitto.adminPassword,
    ca: testTls().caPem,
    reconnectPeriod: 0,
  });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-reconcile-'));
    mosquitto = await Mosquitto.start(dir);
    running = await startTestManager(dir, {
      ...mosquitto.managerConfig(),
      reconcileSeconds: RECONCILE_SECONDS,
      // Alerts go out on the heartbeat tick: a short one, so the stop has its (empty) alerts soon.
      realtimePollSeconds: 1,
    });
    await running.api.post('/api/signs', { deviceId: DEVICE_ID, stopId: STOP_CENTRAL });
    const res = await running.api.post('/api/announcements', {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'Lift out of service' },
    });
    expect(res.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await mosquitto?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What a sign subscribing now would get on `topic`: the decoded body, or null when nothing is retained. */
  async function retained(
    topic: string,
    kind: TopicKind = topic.endsWith('status') ? 'managerStatus' : 'stopAnnouncement',
  ): Promise<unknown> {
    const probe = await mqtt.connectAsync(mosquitto.url, strangerOptions(`probe-${Math.random()}`));
    try {
      const got = new Promise<Buffer | null>((resolve) => {
        probe.once('message', (_t, payload) => resolve(payload));
        setTimeout(() => resolve(null), 300);
      });
      await probe.subscribeAsync(topic, { qos: 1 });
      const payload = await got;
      if (!payload) return null;
      const decoded = decodeMessage(kind, payload);
      return decoded.ok ? decoded.message.data : 'undecodable';
    } finally {
      await probe.endAsync(true);
    }
  }

  it('puts back its status and an announcement a stranger overwrote, within the bound', async () => {
    // A witness on the topic sees the wipe land, however soon the manager then puts it back.
    const witness = await mqtt.connectAsync(mosquitto.url, strangerOptions('witness'));
    let wiped = false;
    witness.on('message', (_topic, payload) => {
      if (payload.length === 0) wiped = true;
    });
    await witness.subscribeAsync(topics.stopAnnouncement(STOP_CENTRAL), { qos: 1 });
    const stranger = await mqtt.connectAsync(mosquitto.url, strangerOptions('stranger'));
    const forgedOffline = encodeMessage('managerStatus', {
      state: 'offline',
      startedAt: 1,
      version: 'x',
    });
    const started = Date.now();
    await stranger.publishAsync(topics.managerStatus(), forgedOffline, { qos: 1, retain: true });
    await stranger.publishAsync(topics.stopAnnouncement(STOP_CENTRAL), '', {
      qos: 1,
      retain: true,
    });
    await waitFor('the stranger’s wipe delivered', () => wiped, 5_000, 20);
    await stranger.endAsync(true);
    await witness.endAsync(true);

    await waitFor(
      'the manager online again and the announcement back',
      async () => {
        const status = (await retained(topics.managerStatus())) as { state?: string } | null;
        const announcement = (await retained(topics.stopAnnouncement(STOP_CENTRAL))) as {
          text?: { en: string };
        } | null;
        return status?.state === 'online' && announcement?.text?.en === 'Lift out of service';
      },
      4 * RECONCILE_SECONDS * 1000,
      100,
    );
    console.info(
      `retained drift corrected after ${Date.now() - started} ms (reconcile every ${RECONCILE_SECONDS} s)`,
    );
  });

  it("puts back a stop's arrivals and agency alerts, which it otherwise sends only on change", async () => {
    // Both are retained for the stop already (an empty board and no alerts on the tiny feed).
    await waitFor('the stop’s alerts retained', async () =>
      Boolean(await retained(topics.stopAlerts(STOP_CENTRAL), 'stopAlerts')),
    );
    const stranger = await mqtt.connectAsync(mosquitto.url, strangerOptions('stranger-2'));
    const now = Math.floor(Date.now() / 1000);
    const forgedAlerts = encodeMessage('stopAlerts', {
      stopId: STOP_CENTRAL,
      generatedAt: now,
      alerts: [{ alertId: 'forged', source: 'agency', header: { en: 'Stop closed' }, routes: [] }],
    });
    const forgedArrivals = encodeMessage('stopArrivals', {
      stopId: STOP_CENTRAL,
      generatedAt: now,
      arrivals: [
        {
          tripId: 'ghost',
          routeId: 'ghost',
          route: 'X9',
          headsign: { en: 'Nowhere' },
          time: now + 120,
          scheduledTime: now + 120,
          source: 'live',
        },
      ],
    });
    const started = Date.now();
    await stranger.publishAsync(topics.stopAlerts(STOP_CENTRAL), forgedAlerts, {
      qos: 1,
      retain: true,
    });
    await stranger.publishAsync(topics.stopArrivals(STOP_CENTRAL), forgedArrivals, {
      qos: 1,
      retain: true,
    });
    await stranger.endAsync(true);

    await waitFor(
      'the manager’s alerts and board back',
      async () => {
        const alerts = (await retained(topics.stopAlerts(STOP_CENTRAL), 'stopAlerts')) as {
          alerts: unknown[];
        } | null;
        const board = (await retained(topics.stopArrivals(STOP_CENTRAL), 'stopArrivals')) as {
          arrivals: { tripId: string }[];
        } | null;
        return (
          alerts?.alerts.length === 0 &&
          board !== null &&
          !board.arrivals.some((row) => row.tripId === 'ghost')
        );
      },
      4 * RECONCILE_SECONDS * 1000,
      100,
    );
    console.info(
      `retained alerts and arrivals corrected after ${Date.now() - started} ms (reconcile every ${RECONCILE_SECONDS} s)`,
    );
  });
});
