/**
 * Power cut in the middle of a schedule write: the writer process is killed
 * (SIGKILL, no chance to clean up) at varying moments, and every time the cache
 * must reopen holding one whole timetable, never a mix or a half.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SignCache } from '../device/cache/signCache';
import { DEPARTURES_PER_SCHEDULE } from './helpers/scheduleWriter';

const root = path.resolve(import.meta.dirname, '..');

async function killMidWrite(
  dbPath: string,
  afterWrites: number,
  extraDelayMs: number,
): Promise<void> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'tests/helpers/scheduleWriter.ts'), dbPath],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let writes = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error('writer stopped by itself')));
    child.stdout.on('data', (chunk: Buffer) => {
      writes += chunk.toString().split('\n').length - 1;
      if (writes >= afterWrites) resolve();
    });
  });
  // Land somewhere inside a later write.
  await new Promise((r) => setTimeout(r, extraDelayMs));
  child.kill('SIGKILL');
  await exited;
}

describe('sign cache across a power cut', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-powercut-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('always reopens with one complete timetable', async () => {
    const dbPath = path.join(dir, 'sign.db');
    for (const [writes, delay] of [
      [2, 0],
      [3, 7],
      [4, 13],
      [2, 21],
      [5, 3],
    ] as const) {
      await killMidWrite(dbPath, writes, delay);
      const cache = new SignCache({ path: dbPath });
      cache.open();
      const rows = cache.upcomingDepartures(0, DEPARTURES_PER_SCHEDULE + 10);
      const info = cache.scheduleInfo();
      cache.close();
      expect(rows).toHaveLength(DEPARTURES_PER_SCHEDULE);
      const labels = new Set(rows.map((r) => r.tripId.split('-')[0]));
      expect(labels.size).toBe(1);
      const label = [...labels][0] ?? '';
      // The stored header belongs to the same timetable as the rows.
      expect(info?.stopName.en).toBe(`Central ${label}`);
    }
  }, 60_000);
});
