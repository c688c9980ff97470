/**
 * Announcements to a set of stops, a route and the whole city, through the
 * real manager (embedded aedes, real SQLite, real HTTP) to signs speaking the
 * device protocol at different stops: a city-wide emergency is one POST and
 * one retained message, a route reaches the stops it serves and no others,
 * withdrawing clears every sign, a bad target is refused with a reason and
 * stores nothing, and a token limited to single-stop announcements may not
 * announce to the city.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TARGET_STOPS, TOPIC_ROOT, topics } from '../shared';
import { SimulatedSign } from '../scripts/fleet/simulatedSign';
import { waitFor } from './helpers/deviceFixtures';
import {
  ROUTE_5X,
  STOP_AIRPORT,
  STOP_HARBOURFRONT,
  STOP_NORTH_POINT,
  STOP_UNIVERSITY,
} from './helpers/gtfsFixture';
import {
  claimFor,
  createSign,
  observerMqttOptions,
  quietLogger,
  startTestManager,
  type RunningManager,
} from './helpers/system';

/** Long enough for a message the manager sent to reach a sign on loopback. */
const SETTLE_MS = 500;
const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** One sign at each stop; R5X serves the airport and North Point, not Harbourfront or University. */
const STOPS = {
  hbf: STOP_HARBOURFRONT,
  uni: STOP_UNIVERSITY,
  air: STOP_AIRPORT,
  npt: STOP_NORTH_POINT,
} as const;
type SignName = keyof typeof STOPS;

describe('announcements to stops, routes and the city', () => {
  let dir: string;
  let manager: RunningManager;
  let observer: MqttClient;
  const signs = new Map<SignName, SimulatedSign>();
  /** Announcement messages the broker carried, by topic, since the last reset. */
  const carried: { topic: string; cleared: boolean }[] = [];

  const sign = (name: SignName): SimulatedSign => {
    const found = signs.get(name);
    if (!found) throw new Error(`no sign ${name}`);
    return found;
  };
  const post = (target: unknown, en: string, priority = 'info', token?: string) =>
    (token ? manager.api.as(token) : manager.api).post('/api/announcements', {
      target,
      text: { en },
      priority,
    });
  const posted = async (target: unknown, en: string, priority = 'info'): Promise<string> => {
    const res = await post(target, en, priority);
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as { announcementId: string }).announcementId;
  };
  const withdraw = async (id: string): Promise<void> => {
    expect((await manager.api.delete(`/api/announcements/${id}`)).status).toBe(200);
  };
  const activeCount = async (): Promise<number> =>
    (await manager.api.json<unknown[]>('/api/announcements')).length;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-targets-'));
    manager = await startTestManager(dir);
    for (const [name, stopId] of Object.entries(STOPS) as [SignName, string][]) {
      const deviceId = `sign-${name}`;
      const credentials = await claimFor(manager, await createSign(manager, { deviceId, stopId }));
      const simulated = new SimulatedSign({
        deviceId,
        brokerUrl: credentials.mqtt.url,
        firmware: 'test',
        statusIntervalMs: 60_000,
        staleAfterSeconds: 300,
        reconnectMinMs: 100,
        reconnectMaxMs: 500,
        keepaliveSeconds: 30,
        connectTimeoutMs: 5000,
        logger: quietLogger,
        credentials: {
          username: credentials.mqtt.username,
          password: credentials.mqtt.password,
          ca: credentials.mqtt.caPem,
        },
      });
      await simulated.start();
      signs.set(name, simulated);
    }
    await waitFor(
      'every sign at its stop',
      () => [...signs.values()].every((s) => s.stopId),
      15_000,
    );
    observer = await mqtt.connectAsync(manager.brokerUrl, observerMqttOptions('targets'));
    observer.on('message', (topic, payload) => {
      if (topic.endsWith('/announcement')) carried.push({ topic, cleared: payload.length === 0 });
    });
    await observer.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 });
    await settle();
  }, 60_000);

  afterAll(async () => {
    await observer?.endAsync();
    for (const s of signs.values()) await s.stop();
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('brings a city-wide emergency to signs at every stop with one POST and one message', async () => {
    carried.length = 0;
    const id = await posted({ city: true }, 'Severe weather: all service suspended', 'emergency');
    await waitFor(
      'the emergency on every sign',
      () => [...signs.values()].every((s) => s.announcements.get('city') === id),
      10_000,
    );
    await settle();
    expect(carried).toEqual([{ topic: topics.cityAnnouncement(), cleared: false }]);

    carried.length = 0;
    await withdraw(id);
    await waitFor(
      'the emergency gone from every sign',
      () => [...signs.values()].every((s) => !s.announcements.has('city')),
      10_000,
    );
    await settle();
    expect(carried).toEqual([{ topic: topics.cityAnnouncement(), cleared: true }]);
  });

  it('brings a route announcement to the signs at its stops and no others, and clears it', async () => {
    carried.length = 0;
    const id = await posted({ routeId: ROUTE_5X }, 'Route 5X diverted via the tunnel');
    const onRoute = (name: SignName) => sign(name).announcements.get(`stop:${STOPS[name]}`);
    await waitFor('the signs on 5X have it', () => onRoute('air') === id && onRoute('npt') === id);
    await settle();
    expect(onRoute('hbf')).toBeUndefined();
    expect(onRoute('uni')).toBeUndefined();
    // One message per stop the route serves, signs or not (Central has none here).
    expect(carried.map((c) => c.topic).sort()).toEqual(
      ['AIR', 'CEN', 'NPT'].map((stop) => topics.stopAnnouncement(stop)).sort(),
    );
    const [stored] = await manager.api.json<{ target: unknown }[]>('/api/announcements');
    expect(stored?.target).toEqual({ routeId: ROUTE_5X, stopIds: ['AIR', 'CEN', 'NPT'] });

    await withdraw(id);
    await waitFor(
      'the route announcement cleared',
      () => onRoute('air') === undefined && onRoute('npt') === undefined,
    );
  });

  it('shows on each stop the most urgent of its own and a set covering it, and falls back when the set goes', async () => {
    const own = await posted({ stopId: STOP_HARBOURFRONT }, 'Lift out of service');
    const district = await posted(
      { stopIds: [STOP_HARBOURFRONT, STOP_UNIVERSITY] },
      'Harbour district closed: use the ferry',
      'emergency',
    );
    const at = (name: SignName) => sign(name).announcements.get(`stop:${STOPS[name]}`);
    await waitFor(
      'the district emergency on both',
      () => at('hbf') === district && at('uni') === district,
    );
    // Newer but less urgent: the district emergency stays.
    const later = await posted({ stopId: STOP_HARBOURFRONT }, 'Crowded: expect delays', 'warning');
    await settle();
    expect(at('hbf')).toBe(district);

    await withdraw(district);
    await waitFor('Harbourfront back to its own warning', () => at('hbf') === later);
    await waitFor('University cleared', () => at('uni') === undefined);
    expect(at('air')).toBeUndefined();
    await withdraw(later);
    await waitFor('Harbourfront back to its own notice', () => at('hbf') === own);
    await withdraw(own);
    await waitFor('Harbourfront cleared', () => at('hbf') === undefined);
  });

  it.each([
    ['an unknown route', { routeId: 'NO-SUCH-ROUTE' }, 422, /no route NO-SUCH-ROUTE/],
    ['an empty list of stops', { stopIds: [] }, 400, /at least one stop/],
    [
      'too many stops',
      { stopIds: Array.from({ length: MAX_TARGET_STOPS + 1 }, (_, i) => `S${i}`) },
      400,
      /at most 5000 stops/,
    ],
    ['a stop twice', { stopIds: [STOP_AIRPORT, STOP_AIRPORT] }, 400, /a stop twice/],
    [
      'a stop nobody knows',
      { stopIds: [STOP_AIRPORT, 'ATLANTIS'] },
      422,
      /unknown stops.*ATLANTIS/,
    ],
    ['city: false', { city: false }, 400, /target.city: Invalid input: expected true/],
    ['two kinds at once', { city: true, stopId: STOP_AIRPORT }, 400, /target must be one of/],
  ])('refuses %s with a reason and stores nothing', async (_what, target, status, reason) => {
    const before = await activeCount();
    carried.length = 0;
    const res = await post(target, 'Should not be sent', 'emergency');
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string; detail?: string };
    expect(`${body.error} ${body.detail ?? ''}`).toMatch(reason);
    expect(await activeCount()).toBe(before);
    await settle();
    expect(carried).toEqual([]);
  });

  it('lets a token limited to announcements post to one stop but not to a route or the city', async () => {
    const operator = await manager.tokenFor('operator');
    const scoped = async (scopes: string[]): Promise<string> => {
      const res = await manager.api.as(operator).post('/api/tokens', {
        name: `only ${scopes.join(' ')}`,
        role: 'operator',
        scopes,
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { token: string }).token;
    };
    const stopOnly = await scoped(['announcements']);
    const before = await activeCount();
    for (const target of [{ city: true }, { routeId: ROUTE_5X }, { stopIds: [STOP_AIRPORT] }]) {
      const res = await post(target, 'Not from this token', 'emergency', stopOnly);
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/broadcast scope/);
    }
    expect(await activeCount()).toBe(before);
    const one = await post({ stopId: STOP_AIRPORT }, 'Platform change', 'info', stopOnly);
    expect(one.status).toBe(201);
    await withdraw(((await one.json()) as { announcementId: string }).announcementId);

    // The operator role for the whole city (no scopes, or broadcast among them) may.
    const broad = await scoped(['announcements', 'broadcast']);
    for (const token of [broad, operator]) {
      const res = await post({ city: true }, 'Drill at noon', 'info', token);
      expect(res.status).toBe(201);
      await withdraw(((await res.json()) as { announcementId: string }).announcementId);
    }
  });

  it('records the target of each broad announcement in the audit log', async () => {
    const id = await posted({ stopIds: [STOP_UNIVERSITY, STOP_AIRPORT] }, 'Exam day crowds');
    await withdraw(id);
    const { events } = await manager.api.json<{
      events: { action: string; after: unknown; before: unknown }[];
    }>(`/api/audit?target=${id}`);
    const post = events.find((e) => e.action === 'announcement.post');
    const withdrawal = events.find((e) => e.action === 'announcement.withdraw');
    expect(post?.after).toMatchObject({ target: { stopIds: [STOP_AIRPORT, STOP_UNIVERSITY] } });
    expect(withdrawal?.before).toMatchObject({
      target: { stopIds: [STOP_AIRPORT, STOP_UNIVERSITY] },
    });
  });
});
