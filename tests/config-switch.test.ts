/**
 * Embedded (aedes in the manager, SQLite) and external (Mosquitto with TLS and
 * dynamic security, PostgreSQL) differ by environment variables only: the same
 * manager program, started with either set, provisions a sign by its claim and
 * serves it the same way through the same HTTPS API.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagerApi } from '../manager/cli/managerApi';
import { topics } from '../shared';
import type { FleetSimulator } from '../scripts/fleet/fleetSimulator';
import {
  adminApi,
  claimedFleet,
  externalBrokerEnv,
  fleetTls,
  managerAccount,
  provisionByClaim,
} from '../scripts/fleet/fleetSecurity';
import { ManagerProcess } from '../scripts/fleet/managerProcess';
import { dynsecConfig } from '../scripts/lib/dynsecFile';
import { MosquittoBroker } from '../scripts/lib/mosquitto';
import { openSharedStore } from '../manager/store/sharedStore';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { loopbackManagerEnv } from './helpers/managerEnv';
import { PostgresServer } from './helpers/postgres';

type Mode = 'embedded' | 'external';

describe.each<Mode>(['embedded', 'external'])('a manager configured %s', (mode) => {
  let dir: string;
  let pg: PostgresServer | undefined;
  let broker: MosquittoBroker | undefined;
  let manager: ManagerProcess;
  let fleet: FleetSimulator;
  let api: ManagerApi;
  let databaseUrl = '';
  const tls = fleetTls();
  /** An account allowed to write the managers' topics that is no manager (external only). */
  const stranger = managerAccount(1);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `stopsign-${mode}-`));
    // Everything both modes share; the external one adds the broker (its URL, the manager's
    // account there, its CA) and the database.
    const env: Record<string, string> = {
      ...loopbackManagerEnv(dir, tls),
      STOPSIGN_RECONCILE_SECONDS: '1',
    };
    if (mode === 'external') {
      pg = await PostgresServer.start();
      const account = managerAccount(0);
      const dynsecFile = path.join(dir, 'dynsec.json');
      fs.writeFileSync(dynsecFile, dynsecConfig([account], { readers: [stranger] }));
      broker = await MosquittoBroker.start({ dir, tls, dynsecFile });
      Object.assign(env, externalBrokerEnv(broker.url, account, tls));
      databaseUrl = await pg.createDatabase();
      env.STOPSIGN_DATABASE_URL = databaseUrl;
    }
    manager = await ManagerProcess.start(env);
    api = await adminApi(env, manager.httpUrl, tls);
    const identities = [{ deviceId: 'kiosk-1', stopId: STOP_CENTRAL }];
    const credentials = await provisionByClaim(api, identities);
    fleet = claimedFleet({ brokerUrl: manager.brokerUrl, identities, credentials, tls });
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await api?.close();
    await manager?.stop();
    await broker?.kill();
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves a sign: provisioned over HTTPS, live on MQTT, online in the list', async () => {
    await fleet.start();
    const sign = fleet.signs[0];
    await waitFor(
      'the sign live, with its offline slice',
      () => sign?.mode === 'live' && sign.scheduleValidUntil !== null,
      30_000,
      50,
    );
    expect(sign?.stopId).toBe(STOP_CENTRAL);
    expect(sign?.scheduleValidUntil).toBeGreaterThan(Date.now() / 1000);
    await waitFor(
      'the sign online and live in the list',
      async () => {
        const list = (await (await api.get('/api/signs')).json()) as {
          online: boolean;
          mode: string;
        }[];
        return list[0]?.online === true && list[0].mode === 'live';
      },
      15_000,
      200,
    );
  });

  it('brings an announcement to the sign and takes it away', async () => {
    const sign = fleet.signs[0];
    const res = await api.post('/api/announcements', {
      target: { stopId: STOP_CENTRAL },
      text: { en: 'Lift out of service' },
      priority: 'warning',
    });
    expect(res.status).toBe(201);
    const { announcementId } = (await res.json()) as { announcementId: string };
    await waitFor('the announcement', () => sign?.announcements.size === 1, 10_000, 50);
    expect([...(sign?.announcements.values() ?? [])]).toEqual([announcementId]);
    await api.request('DELETE', `/api/announcements/${announcementId}`);
    await waitFor('the announcement gone', () => sign?.announcements.size === 0, 10_000, 50);
  });

  // The manager no longer gets its own writes back on MQTT 5 and watches at QoS 0: a stranger's still
  // reach it. Only an external broker lets an account that is no manager write the managers' topics.
  if (mode === 'external') {
    it("puts back an announcement that a stranger's retained write wiped", async () => {
      const sign = fleet.signs[0];
      const res = await api.post('/api/announcements', {
        target: { stopId: STOP_CENTRAL },
        text: { en: 'Stop moved 50 m east' },
        priority: 'warning',
      });
      const { announcementId } = (await res.json()) as { announcementId: string };
      await waitFor('the announcement', () => sign?.announcements.size === 1, 10_000, 50);
      const client = await mqtt.connectAsync(manager.brokerUrl, {
        ...stranger,
        clientId: stranger.username,
        ca: tls.caPem,
        protocolVersion: 5,
      });
      try {
        await client.publishAsync(topics.stopAnnouncement(STOP_CENTRAL), '', {
          qos: 1,
          retain: true,
        });
        // The wipe lands on the sign first; the manager's correction follows within a second.
        await waitFor('the wipe on the sign', () => sign?.announcements.size === 0, 10_000, 5);
      } finally {
        await client.endAsync();
      }
      await waitFor(
        'the announcement back',
        () => sign?.announcements.get(`stop:${STOP_CENTRAL}`) === announcementId,
        10_000,
        50,
      );
      await api.request('DELETE', `/api/announcements/${announcementId}`);
      await waitFor('the announcement gone', () => sign?.announcements.size === 0, 10_000, 50);
    });
  }

  it('says in its health which broker and store it runs on, and nothing else differs', async () => {
    const health = (await (await api.get('/api/health')).json()) as {
      brokerConnected: boolean;
      cluster: { mode: string; members: string[] };
      schedule: { stops: number } | null;
    };
    expect(health.brokerConnected).toBe(true);
    expect(health.schedule?.stops).toBe(6);
    expect(health.cluster.mode).toBe(mode === 'embedded' ? 'alone' : 'shared');
    expect(health.cluster.members).toHaveLength(1);
    // Where the fleet lives: the SQLite file in the data dir, or the PostgreSQL database.
    const sqliteFile = path.join(dir, 'manager', 'manager.db');
    if (mode === 'embedded') {
      expect(manager.brokerUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
      expect(fs.existsSync(sqliteFile)).toBe(true);
    } else {
      expect(manager.brokerUrl).toBe(broker?.url);
      expect(fs.existsSync(sqliteFile)).toBe(false);
      const store = await openSharedStore({ engine: 'postgres', url: databaseUrl });
      try {
        expect((await store.signs.list()).map((s) => s.deviceId)).toEqual(['kiosk-1']);
      } finally {
        await store.close();
      }
    }
  });
});
