/** The API token repository's contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import type { ApiTokenRecord } from '../manager/store/apiTokenRepository';
import { describeEachEngine } from './helpers/storeEngines';

const token = (tokenId: string, extra: Partial<ApiTokenRecord> = {}) => ({
  tokenId,
  name: 'feed pusher 实时',
  username: 'ana',
  role: 'admin' as const,
  scopes: ['realtime' as const],
  createdAt: 100,
  expiresAt: null,
  ...extra,
});

describeEachEngine('API token repository', ({ freshStore }) => {
  it('finds a token by its hash only while it is neither revoked nor expired', async () => {
    const { apiTokens } = await freshStore();
    await apiTokens.create(token('t1'), 'hash-1');
    await apiTokens.create(token('t2', { expiresAt: 4_102_444_800, scopes: [] }), 'hash-2');
    expect(await apiTokens.findUsable('hash-1', 200)).toEqual({
      ...token('t1'),
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(await apiTokens.findUsable('hash-2', 4_102_444_799)).toMatchObject({ scopes: [] });
    expect(await apiTokens.findUsable('hash-2', 4_102_444_800)).toBeUndefined();
    expect(await apiTokens.revoke('t1', 300)).toBe(true);
    expect(await apiTokens.revoke('t1', 301)).toBe(false);
    expect(await apiTokens.findUsable('hash-1', 400)).toBeUndefined();
    expect(await apiTokens.get('t1')).toMatchObject({ revokedAt: 300 });
  });

  it('lists newest first, per operator, records use, and revokes all of an operator', async () => {
    const { apiTokens } = await freshStore();
    await apiTokens.create(token('old', { createdAt: 10 }), 'h-old');
    await apiTokens.create(token('new', { createdAt: 20 }), 'h-new');
    await apiTokens.create(token('bos', { username: 'bo' }), 'h-bo');
    expect((await apiTokens.list('ana')).map((t) => t.tokenId)).toEqual(['new', 'old']);
    expect(await apiTokens.list()).toHaveLength(3);
    await apiTokens.touch('old', 55);
    expect(await apiTokens.get('old')).toMatchObject({ lastUsedAt: 55 });
    expect(await apiTokens.revokeForOperator('ana', 60)).toBe(2);
    expect(await apiTokens.findUsable('h-bo', 70)).toBeDefined();
  });

  it('refuses a second token with the same hash', async () => {
    const { apiTokens } = await freshStore();
    await apiTokens.create(token('a'), 'same');
    await expect(apiTokens.create(token('b'), 'same')).rejects.toThrow();
  });
});
