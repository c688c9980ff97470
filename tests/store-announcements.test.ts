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
