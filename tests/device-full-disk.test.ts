/**
 * A full disk under the sign's cache (a real tmpfs, filled to the last byte):
 * writes fail with a logged reason, and the sign still shows what it received.
 * Needs root to mount; skips with a message elsewhere.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../shared';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import {
  announcement,
  arrivalsData,
  buildSign,
  DEVICE_ID,
  nowSeconds,
  scheduleData,
  STOP_ID,
  TestManager,
  waitFor,
  type SignUnderTest,
} from './helpers/deviceFixtures';

function mountSmallDisk(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes filler until the file system refuses another byte. */
function fillDisk(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = chunk.length; size >= 1;) {
      try {
        fs.writeSync(fd, chunk, 0, size);
      } catch {
        size = Math.floor(size / 2);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-fulldisk-'));
const mounted = mountSmallDisk(disk);
if (!mounted) console.warn('full-disk test skipped: mounting a tmpfs needs root');

describe.skipIf(!mounted)('sign cache on a full disk', () => {
  let broker: TestBroker;
  let manager: TestManager;
  let subject: SignUnderTest;

  beforeAll(async () => {
    broker = await startBroker();
    manager = await TestManager.connect(broker.url);
    await manager.publishAll();
    subject = buildSign({
      brokerUrl: broker.url,
      dataDir: path.join(disk, 'sign'),
      // A silent manager is given up on after 5 s, so the fallback is quick to see.
      config: { staleAfterSeconds: 5, predictionStaleSeconds: 5 },
    });
    await subject.sign.start();
    await waitFor('live mode', () => subject.sign.state().mode === 'live');
    fillDisk(path.join(disk, 'filler'));
  });

  afterAll(async () => {
    await subject?.sign.stop();
    await manager?.close();
    await broker?.close();
    if (mounted) execFileSync('umount', [disk]);
    fs.rmSync(disk, { recursive: true, force: true });
  });

  it('logs the failed writes and still shows new arrivals, announcements and timetable', async () => {
    const now = nowSeconds();
    // Big enough that it cannot fit in what SQLite already holds.
    const timetable = scheduleData(now, 4000);
    timetable.departures = timetable.departures.map((d) => ({ ...d, route: 'NEW' }));
    await manager.publish('stopSchedule', topics.stopSchedule(STOP_ID), timetable);
    await manager.publish('stopArrivals', topics.stopArrivals(STOP_ID), arrivalsData(now + 1, [3]));
    await manager.publish(
      'deviceAnnouncement',
      topics.deviceAnnouncement(DEVICE_ID),
      announcement({ announcementId: 'evac', priority: 'emergency', text: { en: 'Evacuate' } }),
    );

    const view = () => subject.sign.state().view;
    await waitFor('the emergency on the board', () => view()?.announcement?.text.en === 'Evacuate');
    await waitFor('the new arrivals', () => view()?.rows.length === 1 && view()?.mode === 'live');
    const failed = subject.lines.filter((l) => l.msg.includes('could not store in the sign cache'));
    expect(failed.map((l) => l.what)).toContain('schedule');
    expect(failed.every((l) => /full|space/i.test(String(l.err)))).toBe(true);

    // Without the manager, the timetable it could not store still comes from memory.
    await manager.publish('managerStatus', topics.managerStatus(), {
      state: 'offline',
      startedAt: now,
      version: 'test',
    });
    await waitFor('scheduled mode', () => view()?.mode === 'scheduled', 10_000);
    expect(view()?.rows.every((r) => r.route === 'NEW')).toBe(true);
    expect(view()?.announcement?.text.en).toBe('Evacuate');
  });
});
