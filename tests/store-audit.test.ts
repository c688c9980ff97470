/** The audit repository's contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import type { NewAuditEvent } from '../manager/store/auditRepository';
import { describeEachEngine } from './helpers/storeEngines';

const event = (extra: Partial<NewAuditEvent>): NewAuditEvent => ({
  at: 100,
  actorKind: 'operator',
  actor: 'ana',
  address: '127.0.0.1',
  action: 'sign.create',
  targetKind: 'sign',
  targetId: 'kiosk-1',
  before: null,
  after: { stopId: 'CEN', label: '中环 bay 2' },
  ...extra,
});

describeEachEngine('audit repository', ({ freshStore }) => {
  it('appends events and reads every field back, newest first', async () => {
    const { audit } = await freshStore();
    const first = await audit.append(event({}));
    const second = await audit.append(
      event({
        at: 4_102_444_800,
        action: 'operator.role',
        targetKind: 'operator',
        targetId: 'bo',
        before: { role: 'viewer' },
        after: { role: 'admin' },
        address: null,
      }),
    );
    expect(second).toBeGreaterThan(first);
    const events = await audit.query({ limit: 10 });
    expect(events.map((e) => e.eventId)).toEqual([second, first]);
    expect(events[1]).toEqual({ ...event({}), eventId: first });
    expect(events[0]).toMatchObject({ before: { role: 'viewer' }, after: { role: 'admin' } });
  });

  it('filters by actor, action or its prefix, target, time, and pages by id', async () => {
    const { audit } = await freshStore();
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push(
        await audit.append(
          event({
            at: 100 + i,
            actor: i % 2 ? 'bo' : 'ana',
            action: i < 3 ? 'sign.revoke' : 'announcement.post',
            targetId: `t${i}`,
          }),
        ),
      );
    }
    expect((await audit.query({ actor: 'bo', limit: 10 })).map((e) => e.at)).toEqual([
      105, 103, 101,
    ]);
    expect(await audit.query({ action: 'sign.', limit: 10 })).toHaveLength(3);
    expect(await audit.query({ action: 'sign.', limit: 2 })).toHaveLength(2);
    expect(await audit.query({ action: 'sign', limit: 10 })).toHaveLength(0);
    expect((await audit.query({ targetId: 't4', limit: 10 }))[0]?.at).toBe(104);
    expect(await audit.query({ from: 102, to: 103, limit: 10 })).toHaveLength(2);
    expect((await audit.query({ before: ids[2], limit: 10 })).map((e) => e.eventId)).toEqual([
      ids[1],
      ids[0],
    ]);
  });
});
