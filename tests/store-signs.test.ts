/** The sign repository's contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import type { DeviceStatusData } from '../shared';
import { describeEachEngine } from './helpers/storeEngines';

const status = (deviceId: string, extra: Partial<DeviceStatusData> = {}): DeviceStatusData => ({
  deviceId,
  state: 'online',
  firmware: '1.2.3',
  mode: 'live',
  startedAt: 1_700_000_000,
  rejected: { 'stopArrivals:invalid': 2 },
  panel: { ok: false, framesSent: 5, retries: 1, lastError: 'no reply' },
  ...extra,
});

describeEachEngine('sign repository', ({ freshStore }) => {
  it('registers a sign that has never been heard from', async () => {
    const { signs } = await freshStore();
    const sign = await signs.register('kiosk-1', 'CEN', 'Central, bay 2', 1_700_000_100);
    expect(sign).toEqual({
      deviceId: 'kiosk-1',
      stopId: 'CEN',
      label: 'Central, bay 2',
      panelProfile: 'led-192x64-tricolour',
      registeredAt: 1_700_000_100,
      lastSeenAt: null,
      lastStatus: null,
      lastFrameAt: null,
    });
    expect(await signs.get('kiosk-1')).toEqual(sign);
    expect(await signs.get('kiosk-2')).toBeUndefined();
  });

  it('keeps a sign panel profile when it is moved without naming one', async () => {
    const { signs } = await freshStore();
    await signs.register('paper-1', 'CEN', undefined, 1_700_000_100, 'eink-800x480-bw');
    const moved = await signs.register('paper-1', 'MKT', undefined, 1_700_000_200);
    expect(moved).toMatchObject({ stopId: 'MKT', panelProfile: 'eink-800x480-bw' });
    const changed = await signs.register(
      'paper-1',
      'MKT',
      undefined,
      1_700_000_300,
      'eink-296x128-bwr',
    );
    expect(changed.panelProfile).toBe('eink-296x128-bwr');
  });

  it('moves a sign without losing its label, its first registration or what it reported', async () => {
    const { signs } = await freshStore();
    await signs.register('kiosk-1', 'CEN', 'bay 2', 100);
    expect(await signs.recordStatus(status('kiosk-1'), 150)).toBe(true);
    const moved = await signs.register('kiosk-1', 'MKT', undefined, 200);
    expect(moved).toMatchObject({
      stopId: 'MKT',
      label: 'bay 2',
      registeredAt: 100,
      lastSeenAt: 150,
    });
    expect(moved.lastStatus).toEqual(status('kiosk-1'));
    const relabelled = await signs.register('kiosk-1', 'MKT', 'bay 9', 300);
    expect(relabelled.label).toBe('bay 9');
  });

  it('lists signs by device id, by stop, and the stops that have signs', async () => {
    const { signs } = await freshStore();
    await signs.register('b', 'MKT', undefined, 1);
    await signs.register('c', 'CEN', undefined, 1);
    await signs.register('a', 'MKT', undefined, 1);
    expect((await signs.list()).map((s) => s.deviceId)).toEqual(['a', 'b', 'c']);
    expect((await signs.byStop('MKT')).map((s) => s.deviceId)).toEqual(['a', 'b']);
    expect(await signs.byStop('NOWHERE')).toEqual([]);
    expect(await signs.stopIds()).toEqual(['CEN', 'MKT']);
  });

  it('keeps status from unregistered signs out of the fleet', async () => {
    const { signs } = await freshStore();
    expect(await signs.recordStatus(status('ghost'), 10)).toBe(false);
    expect(await signs.recordFrame('ghost', Buffer.from([1]), 10)).toBe(false);
    expect(await signs.list()).toEqual([]);
  });

  it('records a burst of statuses in one call, and names the signs nobody registered', async () => {
    const { signs } = await freshStore();
    for (const id of ['a', 'b', 'c']) await signs.register(id, 'CEN', undefined, 1);
    const unregistered = await signs.recordStatuses([
      { status: status('a', { mode: 'scheduled' }), seenAt: 20 },
      { status: status('ghost'), seenAt: 21 },
      { status: status('c'), seenAt: 22 },
    ]);
    expect(unregistered).toEqual(['ghost']);
    const byId = new Map((await signs.list()).map((s) => [s.deviceId, s]));
    expect(byId.get('a')).toMatchObject({ lastSeenAt: 20, lastStatus: { mode: 'scheduled' } });
    expect(byId.get('b')?.lastSeenAt).toBeNull();
    expect(byId.get('c')?.lastSeenAt).toBe(22);
    expect(byId.has('ghost')).toBe(false);
    expect(await signs.recordStatuses([])).toEqual([]);
  });

  it('stores the last frame byte for byte, apart from the sign record', async () => {
    const { signs } = await freshStore();
    await signs.register('kiosk-1', 'CEN', undefined, 1);
    expect(await signs.lastFrame('kiosk-1')).toBeUndefined();
    // Zero bytes and every byte value: a PNG is binary, not text.
    const png = Buffer.alloc(70_000);
    for (let i = 0; i < png.length; i++) png[i] = (i * 7) % 256;
    expect(await signs.recordFrame('kiosk-1', png, 1_700_000_500)).toBe(true);
    expect(Buffer.compare((await signs.lastFrame('kiosk-1')) ?? Buffer.alloc(0), png)).toBe(0);
    expect((await signs.get('kiosk-1'))?.lastFrameAt).toBe(1_700_000_500);
  });

  it('reads epoch seconds past 2038 back as numbers', async () => {
    const { signs } = await freshStore();
    const farFuture = 2 ** 33;
    await signs.register('kiosk-1', 'CEN', undefined, farFuture);
    await signs.recordStatus(status('kiosk-1'), farFuture + 1);
    const sign = await signs.get('kiosk-1');
    expect(sign?.registeredAt).toBe(farFuture);
    expect(sign?.lastSeenAt).toBe(farFuture + 1);
  });
});
