/**
 * Managers on one PostgreSQL: the fleet's state lives there, each manager
 * builds its own timetable from the feed recorded there, and a feed one
 * manager imports reaches the others without a restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/deviceFixtures';
import { tinyGtfsFiles, zipGtfs } from './helpers/gtfsFixture';
import { PostgresServer } from './helpers/postgres';
import type { Response } from 'undici';
import { startTestManager, type RunningManager } from './helpers/system';

interface Health {
  schedule: { source: string; stops: number } | null;
}

/** The tiny feed with one more stop, so a manager that has it can be told from one that has not. */
function feedWithNewStop(): Uint8Array {
  const files = tinyGtfsFiles();
  files['stops.txt'] = `${files['stops.txt']?.trimEnd()}\nNEW,New Pier,22.29,114.17,0\n`;
  return zipGtfs(files);
}

async function schedule(manager: RunningManager): Promise<Health['schedule']> {
  const res = await manager.api.get(`/api/health`);
  return ((await res.json()) as Health).schedule;
}

async function uploadFeed(manager: RunningManager, zip: Uint8Array): Promise<Response> {
  return manager.api.post('/api/gtfs', Buffer.from(zip));
}

describe('managers sharing one PostgreSQL store', () => {
  let dir: string;
  let server: PostgresServer;
  const running: RunningManager[] = [];

  const start = async (name: string, databaseUrl: string): Promise<RunningManager> => {
    const managerDir = path.join(dir, name);
    fs.mkdirSync(managerDir, { recursive: true });
    const manager = await startTestManager(managerDir, { databaseUrl, feedPollSeconds: 1 });
    running.push(manager);
    return manager;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-shared-'));
    server = await PostgresServer.start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(running.map((m) => m.stop()));
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the fleet in PostgreSQL: a new manager with an empty data dir has it all', async () => {
    const databaseUrl = await server.createDatabase();
    const first = await start('first', databaseUrl);
    expect((await uploadFeed(first, feedWithNewStop())).status).toBe(201);
    expect((await first.api.post(`/api/signs`, { deviceId: 'k1', stopId: 'NEW' })).status).toBe(
      201,
    );
    const posted = await first.api.post(`/api/announcements`, {
      target: { deviceId: 'k1' },
      text: { en: 'Pier closed' },
      priority: 'warning',
    });
    expect(posted.status).toBe(201);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    // Its own gtfsPath is the plain tiny feed: what it serves must be the one the store holds.
    const second = await start('second', databaseUrl);
    expect(await schedule(second)).toMatchObject({ source: 'upload', stops: 7 });
    const signs = (await second.api.json<unknown>(`/api/signs`)) as Array<{
      deviceId: string;
      stopId: string;
    }>;
    expect(signs).toEqual([expect.objectContaining({ deviceId: 'k1', stopId: 'NEW' })]);
    const active = (await second.api.json<unknown>(`/api/announcements`)) as Array<{
      text: { en: string };
    }>;
    expect(active.map((a) => a.text.en)).toEqual(['Pier closed']);
  });

  it('brings a feed one manager imports to the other while both run', async () => {
    const databaseUrl = await server.createDatabase();
    const a = await start('a', databaseUrl);
    const b = await start('b', databaseUrl);
    expect(await schedule(b)).toMatchObject({ stops: 6 });
    const refused = await b.api.post(`/api/signs`, { deviceId: 'k2', stopId: 'NEW' });
    expect(refused.status).toBe(422);

    expect((await uploadFeed(a, feedWithNewStop())).status).toBe(201);
    await waitFor(
      'the second manager to build the new timetable',
      async () => (await schedule(b))?.stops === 7,
      15_000,
      100,
    );
    expect(await schedule(b)).toMatchObject({ source: 'upload' });
    const accepted = await b.api.post(`/api/signs`, { deviceId: 'k2', stopId: 'NEW' });
    expect(accepted.status).toBe(201);
  });
});
