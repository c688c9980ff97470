/**
 * Bundles on their own: signing, key rotation and revocation, the checks a
 * sign makes before installing, and an install that refuses a payload that
 * does not match its signed manifest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundleFile, writeBundle } from '../shared/bundle/bundleArchive';
import { applyStatements, initialTrust, makeStatement } from '../shared/bundle/trust';
import { installBundle } from '../device/update/installer';
import { Slots } from '../device/update/slots';
import { verifyBundle } from '../device/update/verifier';
import { HARDWARE, smallBundle, tamper, testKeys } from './helpers/updateFixtures';

const keys = testKeys();
const trust = initialTrust([keys.release.entry]);
const facts = {
  installedVersion: '1.0.0',
  hardware: HARDWARE,
  arch: process.arch,
  freeBytes: 1 << 30,
};
const now = Math.floor(Date.now() / 1000);
const addNext = makeStatement({ seq: 1, action: 'add', key: keys.next.entry, issuedAt: now }, [
  keys.release,
  keys.next,
]);
const revokeRelease = makeStatement(
  {
    seq: 2,
    action: 'revoke',
    keyId: keys.release.entry.keyId,
    reason: 'laptop stolen',
    issuedAt: now,
  },
  [keys.next],
);

describe('update bundles', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bundle-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a bundle signed by a trusted key verifies and lists every file with its hash', async () => {
    const built = await smallBundle({ dir, version: '1.1.0', key: keys.release });
    const verdict = await verifyBundle(built.path, trust, facts);
    expect(verdict.ok).toBe(true);
    const head = await readBundleFile(built.path);
    expect(head.manifest.files.map((f) => f.path)).toEqual([
      'app/bulk.bin',
      'app/dist/sign.mjs',
      'app/package.json',
      'runtime/bin/node',
    ]);
    expect(head.manifest.files.find((f) => f.path === 'runtime/bin/node')?.exec).toBe(true);
    expect(head.manifest.totalSize).toBe(head.manifest.files.reduce((s, f) => s + f.size, 0));
  });

  it('refuses each bad bundle with its own reason', async () => {
    const cases: [string, Promise<string>, string][] = [];
    const refusal = async (file: string, f = facts) => {
      const verdict = await verifyBundle(file, trust, f);
      return verdict.ok ? 'accepted' : `${verdict.refusal.reason}: ${verdict.refusal.detail}`;
    };
    const good = await smallBundle({
      dir,
      version: '1.2.0',
      key: keys.release,
      name: 'good.bundle',
    });
    cases.push([
      'tampered payload',
      refusal(tamper(good.path, path.join(dir, 't.bundle'))),
      'hash-mismatch',
    ]);
    const old = await smallBundle({ dir, version: '0.9.0', key: keys.release });
    cases.push([
      'downgrade',
      refusal(old.path),
      'downgrade: bundle 0.9.0 is not newer than installed 1.0.0',
    ]);
    const same = await smallBundle({
      dir,
      version: '1.0.0',
      key: keys.release,
      name: 'same.bundle',
    });
    cases.push(['same version', refusal(same.path), 'downgrade']);
    const leap = await smallBundle({
      dir,
      version: '3.0.0',
      minVersion: '2.0.0',
      key: keys.release,
    });
    cases.push([
      'below minimum',
      refusal(leap.path),
      'below-minimum: bundle 3.0.0 updates 2.0.0 or newer; installed is 1.0.0',
    ]);
    const otherBoard = await smallBundle({
      dir,
      version: '1.3.0',
      key: keys.release,
      hardware: ['other-board'],
    });
    cases.push([
      'wrong hardware',
      refusal(otherBoard.path),
      `wrong-hardware: bundle is for other-board; this sign is ${HARDWARE}`,
    ]);
    const otherArch = await smallBundle({
      dir,
      version: '1.3.1',
      key: keys.release,
      arch: process.arch === 'arm64' ? 'x64' : 'arm64',
    });
    cases.push(['wrong arch', refusal(otherArch.path), 'wrong-arch']);
    const stranger = await smallBundle({ dir, version: '1.4.0', key: keys.stranger });
    cases.push(['unknown key', refusal(stranger.path), 'unknown-key']);
    cases.push(['too large', refusal(good.path, { ...facts, freeBytes: 1000 }), 'too-large']);
    // Manifest edited after signing: the signature no longer holds.
    const forged = path.join(dir, 'forged.bundle');
    const payload = path.join(dir, 'forged.payload');
    const head = await readBundleFile(good.path, async (p) => {
      const out = fs.createWriteStream(payload);
      for await (const chunk of p) out.write(chunk);
      await new Promise((r) => out.end(r));
    });
    const edited = Buffer.from(
      head.manifestBytes
        .toString()
        .replace('"hardware":["test-board"]', '"hardware":["test-board","any-board"]'),
    );
    await writeBundle(forged, {
      manifestBytes: edited,
      signature: head.signature,
      trust: [],
      payloadPath: payload,
    });
    cases.push(['edited manifest', refusal(forged), 'bad-signature']);
    // Signed by the release key, which the bundle's own chain revokes.
    const revoked = await smallBundle({
      dir,
      version: '1.5.0',
      key: keys.release,
      trust: [addNext, revokeRelease],
    });
    cases.push(['revoked key', refusal(revoked.path), 'revoked-key: signed by key']);

    for (const [what, result, expected] of cases) {
      expect(await result, what).toContain(expected);
    }
  });

  it('takes a new key through a statement signed by the old one, and drops a revoked one', async () => {
    const byNext = await smallBundle({ dir, version: '1.6.0', key: keys.next, trust: [addNext] });
    const verdict = await verifyBundle(byNext.path, trust, facts);
    expect(verdict.ok).toBe(true);
    expect(verdict.trust.keys.map((k) => k.keyId)).toContain(keys.next.entry.keyId);

    const rotated = applyStatements(trust, [addNext, revokeRelease]);
    expect(rotated.failure).toBeUndefined();
    expect(rotated.state.seq).toBe(2);
    expect(rotated.state.keys.map((k) => k.name)).toEqual(['next']);
    // Applying the same chain again changes nothing: replays are harmless.
    expect(applyStatements(rotated.state, [addNext, revokeRelease]).applied).toBe(0);
  });

  it('refuses key statements that are not properly signed', () => {
    const notByNewKey = makeStatement(
      { seq: 1, action: 'add', key: keys.stranger.entry, issuedAt: now },
      [keys.release],
    );
    expect(applyStatements(trust, [notByNewKey]).failure?.detail).toBe(
      'statement 1 is not signed by the key it adds',
    );
    const byStranger = makeStatement(
      { seq: 1, action: 'add', key: keys.stranger.entry, issuedAt: now },
      [keys.stranger],
    );
    expect(applyStatements(trust, [byStranger]).failure?.detail).toBe(
      'statement 1 is not signed by a trusted key',
    );
    const gap = makeStatement(
      { seq: 3, action: 'revoke', keyId: keys.release.entry.keyId, reason: 'x', issuedAt: now },
      [keys.release],
    );
    expect(applyStatements(trust, [gap]).failure?.detail).toBe('statement 3 does not follow 0');
    const lastKey = makeStatement(
      { seq: 1, action: 'revoke', keyId: keys.release.entry.keyId, reason: 'x', issuedAt: now },
      [keys.release],
    );
    expect(applyStatements(trust, [lastKey]).failure?.detail).toBe(
      'statement 1 would revoke the last trusted key',
    );
  });

  it('installs into a slot only what the manifest lists, and marks the slot installed last', async () => {
    const built = await smallBundle({ dir, version: '1.7.0', key: keys.release });
    const slots = new Slots(path.join(dir, 'root'));
    const head = await readBundleFile(built.path);
    await installBundle({
      file: built.path,
      manifest: head.manifest,
      slots,
      slot: 'b',
      nowMs: Date.now(),
    });
    expect(slots.info('b')?.version).toBe('1.7.0');
    expect(fs.statSync(path.join(slots.dir('b'), 'runtime/bin/node')).mode & 0o111).not.toBe(0);

    // A manifest that promises other contents than the payload holds: nothing is marked installed.
    const lying = {
      ...head.manifest,
      files: head.manifest.files.map((f) => ({
        ...f,
        sha256: f.path === 'app/bulk.bin' ? '0'.repeat(64) : f.sha256,
      })),
    };
    await expect(
      installBundle({ file: built.path, manifest: lying, slots, slot: 'a', nowMs: Date.now() }),
    ).rejects.toThrow('app/bulk.bin does not match its manifest hash');
    expect(slots.info('a')).toBeNull();
  });
});
