/** The sign credential and claim code repositories' contract, on SQLite and on a real PostgreSQL. */
import { expect, it } from 'vitest';
import { describeEachEngine } from './helpers/storeEngines';

describeEachEngine('sign credential repository', ({ freshStore }) => {
  it('issues, replaces, revokes and removes a credential', async () => {
    const { signCredentials } = await freshStore();
    await signCredentials.issue('kiosk-1', 'hash-a', 100, '10.0.0.7');
    expect(await signCredentials.get('kiosk-1')).toEqual({
      deviceId: 'kiosk-1',
      secretHash: 'hash-a',
      issuedAt: 100,
      revokedAt: null,
      claimedFrom: '10.0.0.7',
    });
    expect(await signCredentials.revoke('kiosk-1', 150)).toBe(true);
    expect(await signCredentials.revoke('kiosk-1', 151)).toBe(false);
    expect(await signCredentials.get('kiosk-1')).toMatchObject({ revokedAt: 150 });
    // Re-provisioning: a new secret, live again.
    await signCredentials.issue('kiosk-1', 'hash-b', 4_102_444_800, null);
    expect(await signCredentials.get('kiosk-1')).toMatchObject({
      secretHash: 'hash-b',
      revokedAt: null,
      issuedAt: 4_102_444_800,
    });
    expect([...(await signCredentials.getMany(['kiosk-1', 'none'])).keys()]).toEqual(['kiosk-1']);
    await signCredentials.remove('kiosk-1');
    expect(await signCredentials.get('kiosk-1')).toBeUndefined();
    expect(await signCredentials.revoke('kiosk-1', 200)).toBe(false);
  });
});

describeEachEngine('claim code repository', ({ freshStore }) => {
  const code = (codeHash: string, deviceId: string, expiresAt = 1_000) => ({
    codeHash,
    deviceId,
    createdAt: 100,
    expiresAt,
    createdBy: 'maint',
  });

  it('lets a code be used once, before it expires', async () => {
    const { claimCodes } = await freshStore();
    await claimCodes.issue([code('c1', 'kiosk-1'), code('c2', 'kiosk-2', 150)]);
    expect(await claimCodes.pending('kiosk-1', 120)).toEqual({
      deviceId: 'kiosk-1',
      createdAt: 100,
      expiresAt: 1_000,
    });
    expect(await claimCodes.consume('c1', 120)).toEqual({ ok: true, deviceId: 'kiosk-1' });
    expect(await claimCodes.consume('c1', 121)).toEqual({ ok: false, reason: 'used' });
    expect(await claimCodes.pending('kiosk-1', 122)).toBeUndefined();
    expect(await claimCodes.consume('c2', 150)).toEqual({ ok: false, reason: 'expired' });
    expect(await claimCodes.consume('nope', 120)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('gives exactly one of two racing claims the credentials', async () => {
    const { claimCodes } = await freshStore();
    await claimCodes.issue([code('race', 'kiosk-9')]);
    const outcomes = await Promise.all([
      claimCodes.consume('race', 200),
      claimCodes.consume('race', 200),
      claimCodes.consume('race', 200),
    ]);
    expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
  });

  it('a new code replaces the unused one; removing a sign withdraws its codes', async () => {
    const { claimCodes } = await freshStore();
    await claimCodes.issue([code('first', 'kiosk-1')]);
    await claimCodes.issue([code('second', 'kiosk-1', 2_000)]);
    expect(await claimCodes.consume('first', 120)).toEqual({ ok: false, reason: 'unknown' });
    expect((await claimCodes.pendingMany(['kiosk-1'], 120)).get('kiosk-1')?.expiresAt).toBe(2_000);
    await claimCodes.removeForSign('kiosk-1');
    expect(await claimCodes.consume('second', 130)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('issues a thousand codes in one call', async () => {
    const { claimCodes } = await freshStore();
    const many = Array.from({ length: 1000 }, (_, i) => code(`h${i}`, `sim-${i}`));
    await claimCodes.issue(many);
    const pending = await claimCodes.pendingMany(
      many.map((c) => c.deviceId),
      120,
    );
    expect(pending.size).toBe(1000);
  });
});
