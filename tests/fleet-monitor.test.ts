/**
 * What the fleet view says after a fleet reconnects at once: every sign's
 * newest status, written in a few transactions rather than one per message,
 * and strangers kept out. The store is a real SQLite file; the link is the
 * manager's inbound events, which is all the monitor listens to.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { RejectionCounter, type DeviceStatusData } from '../shared';
import { FleetMonitor, STATUS_BATCH } from '../manager/fleet/fleetMonitor';
import type { FleetLink } from '../manager/link/fleetLink';

import { openSharedStore, type SharedStore } from '../manager/store/sharedStore';
import type { SignRepository } from '../manager/store/signRepository';
import { quietLogger } from './helpers/system';

const NOW_MS = 1_763_000_000_000;
const SIGNS = 1_000;

const status = (deviceId: string, state: 'online' | 'offline'): DeviceStatusData => ({
  deviceId,
  state,
  firmware: '1.0.0',
  mode: 'live',
  startedAt: 1_762_999_000,
  rejected: {},
});

let store: SharedStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

it('keeps the newest status of every sign of a reconnecting fleet, in a few transactions', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-monitor-'));
  store = await openSharedStore({ engine: 'sqlite', file: path.join(dir, 'manager.db') });
  const ids = Array.from({ length: SIGNS }, (_, i) => `sign-${String(i).padStart(4, '0')}`);
  for (const id of ids) await store.signs.register(id, 'CEN', undefined, 1);
  const real = store.signs;
  let transactions = 0;
  const signs: SignRepository = Object.assign(Object.create(real) as SignRepository, {
    recordStatuses: (reports: Parameters<SignRepository['recordStatuses']>[0]) => {
      transactions++;
      return real.recordStatuses(reports);
    },
  });
  const link = Object.assign(new EventEmitter(), { rejections: new RejectionCounter() });
  const monitor = new FleetMonitor({
    link: link as unknown as Pick<FleetLink, 'on' | 'off' | 'rejections'>,
    signs,
    clock: () => NOW_MS,
    logger: quietLogger,
  });
  monitor.start();

  // Everyone comes online at once; the first hundred drop again before anything is written.
  for (const id of ids) link.emit('status', status(id, 'online'), NOW_MS - 5_000);
  for (const id of ids.slice(0, 100)) link.emit('status', status(id, 'offline'), NOW_MS - 1_000);
  link.emit('status', status('stranger', 'online'), NOW_MS);
  await monitor.stop();

  const recorded = new Map((await real.list()).map((s) => [s.deviceId, s]));
  expect(recorded.size).toBe(SIGNS);
  const states = ids.map((id) => recorded.get(id)?.lastStatus?.state);
  expect(states.slice(0, 100).every((s) => s === 'offline')).toBe(true);
  expect(states.slice(100).every((s) => s === 'online')).toBe(true);
  expect(recorded.get(ids[0] as string)?.lastSeenAt).toBe(NOW_MS / 1000 - 1);
  expect(recorded.get(ids[500] as string)?.lastSeenAt).toBe(NOW_MS / 1000 - 5);
  expect(recorded.has('stranger')).toBe(false);
  // 1,001 distinct senders: three transactions of at most STATUS_BATCH, not 1,101 commits.
  expect(transactions).toBe(Math.ceil((SIGNS + 1) / STATUS_BATCH));
});
