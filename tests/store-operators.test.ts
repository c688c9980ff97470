/** The operator and session repositories' contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/storeEngines';

describeEachEngine('operator repository', ({ freshStore }) => {
  it('creates an operator once and reads every field back', async () => {
    const { operators } = await freshStore();
    const base = {
      username: 'li.wei',
      passwordHash: 'scrypt$x$李',
      role: 'admin',
      createdAt: 4_102_444_800,
    } as const;
    expect(await operators.create(base)).toBe(true);
    expect(await operators.create({ ...base, role: 'viewer' })).toBe(false);
    expect(await operators.get('li.wei')).toEqual({
      ...base,
      passwordChangedAt: 4_102_444_800,
      disabledAt: null,
    });
    expect(await operators.get('nobody')).toBeUndefined();
    expect(await operators.count()).toBe(1);
  });

  it('changes role, password and disabled state, and counts active admins', async () => {
    const { operators } = await freshStore();
    await operators.create({ username: 'b', passwordHash: 'h1', role: 'admin', createdAt: 10 });
    await operators.create({ username: 'a', passwordHash: 'h1', role: 'admin', createdAt: 10 });
    expect(await operators.countActiveAdmins()).toBe(2);
    expect(await operators.setRole('a', 'operator')).toBe(true);
    expect(await operators.setDisabled('b', 50)).toBe(true);
    expect(await operators.countActiveAdmins()).toBe(0);
    expect(await operators.setPassword('a', 'h2', 60)).toBe(true);
    expect(await operators.setRole('ghost', 'admin')).toBe(false);
    const list = await operators.list();
    expect(list.map((o) => o.username)).toEqual(['a', 'b']);
    expect(list[0]).toMatchObject({ role: 'operator', passwordHash: 'h2', passwordChangedAt: 60 });
    expect(list[1]).toMatchObject({ disabledAt: 50 });
    await operators.setDisabled('b', null);
    expect(await operators.countActiveAdmins()).toBe(1);
  });
});

describeEachEngine('session repository', ({ freshStore }) => {
  const session = (hash: string, username: string, expiresAt: number) => ({
    sessionHash: hash,
    username,
    csrfToken: `csrf-${hash}`,
    createdAt: 100,
    expiresAt,
    lastSeenAt: 100,
    address: '::ffff:127.0.0.1',
  });

  it('finds a live session, not an expired one, and slides its expiry', async () => {
    const { sessions } = await freshStore();
    await sessions.create(session('s1', 'ana', 200));
    expect(await sessions.find('s1', 150)).toEqual(session('s1', 'ana', 200));
    expect(await sessions.find('s1', 200)).toBeUndefined();
    await sessions.touch('s1', 190, 4_102_444_800);
    expect(await sessions.find('s1', 3_000_000_000)).toMatchObject({ lastSeenAt: 190 });
    expect(await sessions.find('unknown', 150)).toBeUndefined();
  });

  it('ends one session, all of an operator, and the expired ones', async () => {
    const { sessions } = await freshStore();
    await sessions.create(session('a1', 'ana', 500));
    await sessions.create(session('a2', 'ana', 500));
    await sessions.create(session('b1', 'bo', 120));
    await sessions.create(session('b2', 'bo', 500));
    await sessions.remove('b2');
    expect(await sessions.find('b2', 110)).toBeUndefined();
    expect(await sessions.removeForOperator('ana')).toBe(2);
    expect(await sessions.removeExpired(130)).toBe(1);
    expect(await sessions.find('b1', 110)).toBeUndefined();
  });
});
