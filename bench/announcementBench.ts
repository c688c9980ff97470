/**
 * What publishing costs as announcements pile up, and what registering a sign
 * sends. A real manager (embedded broker, SQLite store, tiny feed) is seeded
 * with N signs and N active announcements, one per sign, then measured through
 * its HTTP API and a subscriber on its broker, as an operator and a sign see it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { createOperator, createToken, openAdminTools } from '../manager/cli/adminTools';
import { ManagerApi } from '../manager/cli/managerApi';
import { loadManagerConfig } from '../manager/config';
import { Manager, type ManagerEndpoints } from '../manager/manager';
import { startBroker, type TestBroker } from '../tests/helpers/deviceBroker';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { TOPIC_ROOT, topics } from '../shared';
import { printFigures, type Figure } from './measure';

const logger = pino({ level: 'silent' });
const POSTED_TO = 'bench-post';

interface Running extends ManagerEndpoints {
  manager: Manager;
  api: ManagerApi;
  /** Where the bench listens: a broker without access control, so one subscriber sees every topic. */
  wireUrl: string;
  stop(): Promise<void>;
}

async function startManager(dir: string, broker: TestBroker): Promise<Running> {
  const gtfsPath = path.join(dir, 'tiny.zip');
  if (!fs.existsSync(gtfsPath)) fs.writeFileSync(gtfsPath, tinyGtfsZip());
  const config = loadManagerConfig(
    {},
    {
      httpPort: 0,
      brokerPort: 0,
      dataDir: path.join(dir, 'manager'),
      gtfsPath,
      // No periodic pass during the measurement: only what a request causes is timed.
      publishIntervalSeconds: 3600,
      scryptCost: 12,
      brokerMode: 'external',
      brokerUrl: broker.url,
      brokerUsername: 'bench-manager',
      brokerPassword: 'the bench broker lets anyone in',
      brokerAccess: 'none',
      signBrokerUrl: 'mqtts://127.0.0.1:8883',
    },
  );
  const manager = new Manager(config, logger);
  const endpoints = await manager.start();
  const tools = await openAdminTools(config);
  if (!(await tools.store.operators.get('bench'))) {
    await createOperator(tools, { username: 'bench', role: 'admin' });
  }
  const { token } = await createToken(tools, { username: 'bench', name: 'bench' });
  await tools.close();
  const api = new ManagerApi(endpoints.httpUrl, { caPem: endpoints.caPem, token });
  return {
    ...endpoints,
    manager,
    api,
    wireUrl: broker.url,
    async stop() {
      await api.close();
      await manager.stop();
    },
  };
}

/** N signs at the busiest stop, each with one active announcement, written straight into the store file. */
function seed(dir: string, count: number): void {
  const db = new Database(path.join(dir, 'manager', 'manager.db'));
  const now = Math.floor(Date.now() / 1000);
  const sign = db.prepare(
    'INSERT INTO signs (device_id, stop_id, label, registered_at) VALUES (?, ?, NULL, ?)',
  );
  const announcement = db.prepare(
    `INSERT INTO announcements (announcement_id, target_kind, target_id, text_en, text_zh,
       priority, starts_at, expires_at, created_at, withdrawn)
     VALUES (?, 'device', ?, ?, NULL, 'info', NULL, ?, ?, 0)`,
  );
  db.transaction(() => {
    sign.run(POSTED_TO, STOP_CENTRAL, now);
    for (let i = 0; i < count; i++) {
      const deviceId = `bench-${i}`;
      sign.run(deviceId, STOP_CENTRAL, now);
      announcement.run(`seed-${i}`, deviceId, `Seeded notice ${i}`, now + 7200, now - i);
    }
  })();
  db.close();
}

async function subscriber(
  brokerUrl: string,
  filter: string,
): Promise<{
  client: MqttClient;
  seen: Map<string, number>;
  bytes: () => number;
  reset: () => void;
}> {
  const client = await mqtt.connectAsync(brokerUrl, {
    clientId: `bench-${process.pid}-${Date.now()}`,
  });
  const seen = new Map<string, number>();
  let bytes = 0;
  client.on('message', (topic, payload) => {
    const kind = topic.split('/').at(-1) ?? topic;
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    bytes += payload.length;
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    client,
    seen,
    bytes: () => bytes,
    reset: () => {
      seen.clear();
      bytes = 0;
    },
  };
}

async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface PublishingFigures {
  /** Mean ms from POST to the manager's answer, the retained announcement published by then. */
  postMs: number;
  /** Mean ms for DELETE (withdraw) of one. */
  withdrawMs: number;
  /** Manager start until every seeded announcement was retained on the broker. */
  startPassMs: number;
}

async function measurePublishing(active: number): Promise<PublishingFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-ann-'));
  const broker = await startBroker();
  try {
    // A first start creates the store and imports the feed; the seed goes into that file.
    await (await startManager(dir, broker)).stop();
    seed(dir, active);
    const started = performance.now();
    const running = await startManager(dir, broker);
    const announcements = await subscriber(running.wireUrl, `${TOPIC_ROOT}/device/+/announcement`);
    await until(
      `${active} retained announcements`,
      () => (announcements.seen.get('announcement') ?? 0) >= active,
      600_000,
    );
    const startPassMs = performance.now() - started;
    const api = '/api/announcements';
    const rounds = active >= 1000 ? 5 : 20;
    const ids: string[] = [];
    const postOne = async (i: number): Promise<void> => {
      const res = await running.api.post(api, {
        target: { deviceId: POSTED_TO },
        text: { en: `Measured notice ${i}` },
        priority: 'warning',
        durationSeconds: 3600,
      });
      if (res.status !== 201) throw new Error(`bench: POST answered ${res.status}`);
      ids.push(((await res.json()) as { announcementId: string }).announcementId);
    };
    await postOne(-1); // warm-up: first request through each route and statement
    let t = performance.now();
    for (let i = 0; i < rounds; i++) await postOne(i);
    const postMs = (performance.now() - t) / rounds;
    t = performance.now();
    for (const id of ids.slice(1)) {
      const res = await running.api.delete(`${api}/${id}`);
      if (res.status !== 200) throw new Error(`bench: DELETE answered ${res.status}`);
    }
    const withdrawMs = (performance.now() - t) / rounds;
    await announcements.client.endAsync();
    await running.stop();
    return { postMs, withdrawMs, startPassMs };
  } finally {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface RegistrationFigures {
  messages: number;
  bytes: number;
  kinds: string;
  configOnlyBytes: number;
}

/** A second sign registered at a stop that already has one: what goes on the wire. */
async function measureRegistration(): Promise<RegistrationFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-reg-'));
  const broker = await startBroker();
  try {
    const running = await startManager(dir, broker);
    const post = (path: string, body: unknown) => running.api.post(path, body);
    const signs = '/api/signs';
    if ((await post(signs, { deviceId: 'first', stopId: STOP_CENTRAL })).status !== 201) {
      throw new Error('bench: registering the first sign failed');
    }
    const wire = await subscriber(running.wireUrl, `${TOPIC_ROOT}/#`);
    await new Promise((r) => setTimeout(r, 500)); // retained messages delivered on subscribe
    wire.reset();
    if ((await post(signs, { deviceId: 'second', stopId: STOP_CENTRAL })).status !== 201) {
      throw new Error('bench: registering the second sign failed');
    }
    await new Promise((r) => setTimeout(r, 500));
    const messages = [...wire.seen.values()].reduce((a, b) => a + b, 0);
    const kinds = [...wire.seen.entries()].map(([k, n]) => `${k}×${n}`).join(' ');
    const bytes = wire.bytes();
    // The floor: the one message a registration has to send, the sign's own config.
    const config = await subscriber(running.wireUrl, topics.deviceConfig('second'));
    await until('the retained config', () => config.seen.size > 0, 5_000);
    const configOnlyBytes = config.bytes();
    await config.client.endAsync();
    await wire.client.endAsync();
    await running.stop();
    return { messages, bytes, kinds, configOnlyBytes };
  } finally {
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchAnnouncements(): Promise<void> {
  await measurePublishing(0); // warm-up: the first manager in a process pays for loading and JIT
  const baseline = await measurePublishing(0);
  const figures: Figure[] = [];
  for (const active of [10, 100, 1000]) {
    const m = await measurePublishing(active);
    figures.push(
      {
        name: `post one announcement, ${active} active`,
        value: m.postMs,
        unit: 'ms',
        baseline: { name: 'none active', value: baseline.postMs },
      },
      {
        name: `withdraw one announcement, ${active} active`,
        value: m.withdrawMs,
        unit: 'ms',
        baseline: { name: 'none active', value: baseline.withdrawMs },
      },
      {
        name: `start: all ${active} announcements retained`,
        value: m.startPassMs,
        unit: 'ms',
        baseline: { name: 'none active', value: baseline.startPassMs },
      },
    );
  }
  const reg = await measureRegistration();
  figures.push(
    {
      name: `register a 2nd sign at a stop: messages sent (${reg.kinds})`,
      value: reg.messages,
      unit: 'msgs',
      baseline: { name: 'its config alone', value: 1 },
    },
    {
      name: 'register a 2nd sign at a stop: bytes sent',
      value: reg.bytes,
      unit: 'B',
      baseline: { name: 'its config alone', value: reg.configOnlyBytes },
    },
  );
  printFigures('Announcements and registration (manager, SQLite store, aedes broker)', figures);
}

// Run on its own: tsx bench/announcementBench.ts
if (import.meta.url === `file://${process.argv[1]}`) await benchAnnouncements();
