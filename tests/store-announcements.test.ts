/** The announcement repository's contract, on SQLite and on a real PostgreSQL. */
import { describe, expect, it } from 'vitest';
import {
  mostUrgent,
  type AnnouncementRecord,
  type NewAnnouncement,
} from '../manager/store/announcementRepository';
import { describeEachEngine } from './helpers/storeEngines';

const NOW = 1_700_000_000;

function announcement(id: string, extra: Partial<NewAnnouncement> = {}): NewAnnouncement {
  return {
    announcementId: id,
    target: { stopId: 'CEN' },
    text: { en: `notice ${id}` },
    priority: 'info',
    expiresAt: NOW + 600,
    createdAt: NOW,
    ...extra,
  };
}

describeEachEngine('announcement repository', ({ freshStore }) => {
  it('gives back what was added, with and without Chinese text and start time', async () => {
    const { announcements } = await freshStore();
    const plain = announcement('a1');
    const full = announcement('a2', {
      target: { deviceId: 'kiosk-1' },
      text: { en: 'Lift out of service', zh: '电梯暂停服务' },
      priority: 'emergency',
      startsAt: NOW + 60,
    });
    await announcements.add(plain);
    await announcements.add(full);
    expect(await announcements.get('a1')).toEqual({ ...plain, withdrawn: false });
    expect(await announcements.get('a2')).toEqual({ ...full, withdrawn: false });
    expect(await announcements.get('nope')).toBeUndefined();
  });

  it('refuses a second announcement with the same id', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('a1'));
    await expect(announcements.add(announcement('a1'))).rejects.toThrow();
    expect((await announcements.active(NOW)).length).toBe(1);
  });

  it('lists active ones newest first, leaving out withdrawn and expired ones', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('old', { createdAt: NOW - 100 }));
    await announcements.add(announcement('new', { createdAt: NOW }));
    await announcements.add(announcement('gone', { expiresAt: NOW }));
    await announcements.add(announcement('withdrawn'));
    const withdrawn = await announcements.withdraw('withdrawn');
    expect(withdrawn?.withdrawn).toBe(true);
    expect(await announcements.withdraw('never-added')).toBeUndefined();
    expect((await announcements.active(NOW)).map((a) => a.announcementId)).toEqual(['new', 'old']);
  });

  it('tells a sign target from a stop target with the same id', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('to-stop', { target: { stopId: 'X1' } }));
    await announcements.add(announcement('to-sign', { target: { deviceId: 'X1' } }));
    await announcements.add(announcement('expired', { target: { stopId: 'X1' }, expiresAt: NOW }));
    const forStop = await announcements.activeFor({ stopId: 'X1' }, NOW);
    expect(forStop.map((a) => a.announcementId)).toEqual(['to-stop']);
    const forSign = await announcements.activeFor({ deviceId: 'X1' }, NOW);
    expect(forSign.map((a) => a.announcementId)).toEqual(['to-sign']);
  });

  it('remembers every target ever announced to, withdrawn ones included', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('a', { target: { stopId: 'CEN' } }));
    await announcements.add(announcement('b', { target: { stopId: 'CEN' } }));
    await announcements.add(announcement('c', { target: { deviceId: 'kiosk-1' } }));
    await announcements.withdraw('c');
    const targets = await announcements.targets();
    expect(targets).toHaveLength(2);
    expect(targets).toEqual(expect.arrayContaining([{ stopId: 'CEN' }, { deviceId: 'kiosk-1' }]));
  });

  it('keeps a set of stops, a route with its stops and the city as they were posted', async () => {
    const { announcements } = await freshStore();
    const district = announcement('district', { target: { stopIds: ['A1', 'B2', 'C3'] } });
    const route = announcement('route', { target: { routeId: '7', stopIds: ['B2', 'D4'] } });
    const city = announcement('city', { target: { city: true }, priority: 'emergency' });
    for (const a of [district, route, city]) await announcements.add(a);
    expect(await announcements.get('district')).toEqual({ ...district, withdrawn: false });
    expect(await announcements.get('route')).toEqual({ ...route, withdrawn: false });
    expect(await announcements.get('city')).toEqual({ ...city, withdrawn: false });
    const active = await announcements.active(NOW);
    expect(active.map((a) => a.target)).toEqual(
      expect.arrayContaining([district.target, route.target, city.target]),
    );
  });

  it('finds for a stop every set and route covering it, and for a set every one sharing a stop', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('at-B2', { target: { stopId: 'B2' } }));
    await announcements.add(announcement('at-Z9', { target: { stopId: 'Z9' } }));
    await announcements.add(announcement('set', { target: { stopIds: ['A1', 'B2'] } }));
    await announcements.add(announcement('route', { target: { routeId: '7', stopIds: ['C3'] } }));
    await announcements.add(announcement('city', { target: { city: true } }));
    await announcements.add(announcement('sign', { target: { deviceId: 'B2' } }));
    const ids = async (target: Parameters<typeof announcements.activeFor>[0]) =>
      (await announcements.activeFor(target, NOW)).map((a) => a.announcementId).sort();
    expect(await ids({ stopId: 'B2' })).toEqual(['at-B2', 'set']);
    expect(await ids({ stopId: 'C3' })).toEqual(['route']);
    expect(await ids({ stopIds: ['B2', 'C3'] })).toEqual(['at-B2', 'route', 'set']);
    expect(await ids({ routeId: 'x', stopIds: ['A1'] })).toEqual(['set']);
    expect(await ids({ city: true })).toEqual(['city']);
    expect(await ids({ deviceId: 'B2' })).toEqual(['sign']);
  });

  it('remembers every stop a set or route covered, and the city, as places to clear', async () => {
    const { announcements } = await freshStore();
    await announcements.add(announcement('a', { target: { stopId: 'A1' } }));
    await announcements.add(announcement('b', { target: { stopIds: ['A1', 'B2'] } }));
    await announcements.add(announcement('c', { target: { routeId: '7', stopIds: ['C3'] } }));
    await announcements.add(announcement('d', { target: { city: true } }));
    await announcements.withdraw('d');
    const places = await announcements.targets();
    expect(places).toHaveLength(4);
    expect(places).toEqual(
      expect.arrayContaining([
        { stopId: 'A1' },
        { stopId: 'B2' },
        { stopId: 'C3' },
        { city: true },
      ]),
    );
  });

  it('stores a district of 5000 stops whole, or nothing when one of its stops cannot be stored', async () => {
    const { announcements } = await freshStore();
    const stopIds = Array.from({ length: 5000 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    await announcements.add(announcement('big', { target: { stopIds } }));
    const big = await announcements.get('big');
    expect(big?.target).toEqual({ stopIds });
    // The same stop twice breaks the key half way through: the record goes with its stops.
    const broken = [...stopIds.slice(0, 1000), 'S00001'];
    await expect(
      announcements.add(announcement('broken', { target: { stopIds: broken } })),
    ).rejects.toThrow();
    expect(await announcements.get('broken')).toBeUndefined();
    expect(await announcements.activeFor({ stopId: 'S00999' }, NOW)).toHaveLength(1);
  });
});

describe('which announcement a topic carries', () => {
  const record = (id: string, extra: Partial<AnnouncementRecord>): AnnouncementRecord => ({
    ...announcement(id),
    withdrawn: false,
    ...extra,
  });

  it('is the most urgent, then the newest, whatever the order they come in', () => {
    const info = record('info', { createdAt: NOW + 50 });
    const warning = record('warning', { priority: 'warning', createdAt: NOW });
    const olderWarning = record('older', { priority: 'warning', createdAt: NOW - 10 });
    expect(mostUrgent([info, olderWarning, warning])?.announcementId).toBe('warning');
    expect(mostUrgent([warning, info, olderWarning])?.announcementId).toBe('warning');
    expect(mostUrgent([])).toBeUndefined();
  });

  it('breaks a tie by id, so every manager picks the same one', () => {
    const a = record('aaa', {});
    const b = record('bbb', {});
    expect(mostUrgent([a, b])?.announcementId).toBe('bbb');
    expect(mostUrgent([b, a])?.announcementId).toBe('bbb');
  });
});
