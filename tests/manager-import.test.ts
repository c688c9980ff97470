/**
 * A city-sized timetable upload runs on a worker thread: while it is being
 * imported the manager (and its embedded broker) keeps answering, and signs
 * get the new timetable once it is committed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestManager, type RunningManager } from './helpers/system';

const HALIFAX = path.resolve(import.meta.dirname, '../../shared/data/gtfs/halifax-2025.zip');
const haveFeed = fs.existsSync(HALIFAX);
if (!haveFeed)
  console.warn(`large-import test skipped: ${HALIFAX} not found (see ../shared/data/README.md)`);

interface Health {
  schedule: { stops: number; source: string } | null;
}

describe.skipIf(!haveFeed)('timetable upload of a large feed', () => {
  let dir: string;
  let manager: RunningManager;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-import-'));
    manager = await startTestManager(dir);
  });

  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps answering during the import, then serves the new timetable', async () => {
    const before = (await manager.api.json<Health>('/api/health')).schedule;
    const order: string[] = [];
    const upload = manager.api.post('/api/gtfs', fs.readFileSync(HALIFAX)).then(async (res) => {
      order.push('import done');
      return res;
    });
    // Asked after the upload started: with the import on the event loop this would wait for it.
    await new Promise((r) => setTimeout(r, 200));
    const during = await manager.api.json<Health>('/api/health');
    order.push('health answered');
    expect(during.schedule).toEqual(before);

    const res = await upload;
    expect(res.status).toBe(201);
    expect(order).toEqual(['health answered', 'import done']);
    const after = (await manager.api.json<Health>('/api/health')).schedule;
    expect(after?.stops).toBe(2386);
    // Signs can be registered at the new feed's stops straight away.
    const sign = await manager.api.post('/api/signs', { deviceId: 'hfx-1', stopId: '6121' });
    expect(sign.status).toBe(201);
  }, 180_000);
});
