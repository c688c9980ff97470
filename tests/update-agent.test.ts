/**
 * The update agent in-process against a real broker and a real HTTP server,
 * with small bundles: every bad bundle is refused with its reason reported to
 * the manager, a broken-off download resumes with a Range request and fetches
 * only the missing bytes, and a download that keeps failing ends in a
 * terminal failure report instead of retrying forever.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadUpdateConfig } from '../device/update/config';
import { provisionSlot } from '../device/update/provision';
import { Slots } from '../device/update/slots';
import { TrustStore } from '../device/update/trustStore';
import { UpdateAgent } from '../device/update/updateAgent';
import { MqttUpdateLink } from '../device/update/updateLink';
import { UpdateStateStore } from '../device/update/updateState';
import { makeStatement } from '../shared/bundle/trust';
import { BundleServer } from './helpers/bundleServer';
import { startBroker, unusedPort, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { FleetUpdateWatcher } from './helpers/fleetUpdateWatcher';
import { quietLogger } from './helpers/system';
import { HARDWARE, smallBundle, tamper, testKeys } from './helpers/updateFixtures';

const keys = testKeys();

describe('update agent', () => {
  let dir: string;
  let broker: TestBroker;
  let server: BundleServer;
  let running: { agent: UpdateAgent; watcher: FleetUpdateWatcher } | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-agent-'));
    broker = await startBroker();
    server = new BundleServer();
    await server.start();
  });
  afterEach(async () => {
    await running?.agent.stop();
    await running?.watcher.stop();
    running = undefined;
  });
  afterAll(async () => {
    await server.stop();
    await broker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A sign disk with 1.0.0 provisioned, and its agent running. */
  async function startAgent(name: string, overrides: Record<string, unknown> = {}) {
    const root = path.join(dir, name);
    // One device per test: retained offers of one test never reach another.
    const deviceId = `sign-${name}`;
    const stateDir = path.join(root, 'state');
    fs.mkdirSync(stateDir, { recursive: true });
    const keysFile = path.join(root, 'trusted-keys.json');
    fs.writeFileSync(keysFile, JSON.stringify({ keys: [keys.release.entry] }));
    const config = loadUpdateConfig(
      {},
      {
        deviceId,
        brokerUrl: broker.url,
        hardware: HARDWARE,
        root: path.join(root, 'opt'),
        stateDir,
        trustedKeysFile: keysFile,
        healthFile: path.join(root, 'health.json'),
        maxBytesPerSecond: 0,
        retryMinMs: 50,
        retryMaxMs: 200,
        trialSeconds: 5,
        logLevel: 'silent',
        ...overrides,
      },
    );
    const slots = new Slots(config.root);
    const trust = new TrustStore(stateDir, keysFile);
    const v1 = await smallBundle({ dir: root, version: '1.0.0', key: keys.release });
    await provisionSlot({ bundle: v1.path, slots, trust, hardware: HARDWARE, nowMs: Date.now() });
    const watcher = new FleetUpdateWatcher(broker.url, deviceId);
    await watcher.start();
    const agent = new UpdateAgent({
      config,
      slots,
      store: new UpdateStateStore(stateDir),
      trust,
      channel: new MqttUpdateLink({ deviceId, brokerUrl: broker.url, logger: quietLogger }),
      restartSign: async () => undefined,
      freeBytes: () => 1 << 30,
      clock: Date.now,
      logger: quietLogger,
    });
    await agent.start();
    running = { agent, watcher };
    return { root, slots, watcher, agent };
  }

  it('refuses tampered, truncated, downgraded, wrongly signed, wrong-hardware and revoked-key bundles, saying why', async () => {
    const { root, watcher, slots } = await startAgent('refusals');
    const good = await smallBundle({
      dir: root,
      version: '1.1.0',
      key: keys.release,
      name: 'good.bundle',
    });
    const tampered = tamper(good.path, path.join(root, 'tampered.bundle'));
    const truncated = path.join(root, 'truncated.bundle');
    fs.writeFileSync(truncated, fs.readFileSync(good.path).subarray(0, good.size - 50_000));
    const older = await smallBundle({ dir: root, version: '0.9.0', key: keys.release });
    const stranger = await smallBundle({ dir: root, version: '1.2.0', key: keys.stranger });
    const otherBoard = await smallBundle({
      dir: root,
      version: '1.3.0',
      key: keys.release,
      hardware: ['other-board'],
    });
    const now = Math.floor(Date.now() / 1000);
    const chain = [
      makeStatement({ seq: 1, action: 'add', key: keys.next.entry, issuedAt: now }, [
        keys.release,
        keys.next,
      ]),
      makeStatement(
        {
          seq: 2,
          action: 'revoke',
          keyId: keys.release.entry.keyId,
          reason: 'key leaked',
          issuedAt: now,
        },
        [keys.next],
      ),
    ];
    const revoked = await smallBundle({
      dir: root,
      version: '1.4.0',
      key: keys.release,
      trust: chain,
    });

    const { sha256: tamperedSha } = await import('../device/update/fileHash').then(async (m) => ({
      sha256: await m.sha256OfFile(tampered),
    }));
    const cases = [
      // The server's file was replaced and the offer names the replacement: the signed manifest catches it.
      {
        what: 'tampered',
        bundle: good,
        file: tampered,
        extra: { sha256: tamperedSha },
        reason: 'hash-mismatch',
        detail: 'payload is',
      },
      {
        what: 'truncated',
        bundle: good,
        file: truncated,
        extra: {},
        reason: 'hash-mismatch',
        detail: `server holds ${good.size - 50_000} bytes, the offer says ${good.size}`,
      },
      {
        what: 'downgraded',
        bundle: older,
        file: older.path,
        extra: {},
        reason: 'downgrade',
        detail: 'offer 0.9.0 is older than installed 1.0.0',
      },
      // Offered as newer, but the signed manifest says otherwise.
      {
        what: 'downgraded inside',
        bundle: older,
        file: older.path,
        extra: { version: '1.5.0' },
        reason: 'downgrade',
        detail: 'bundle 0.9.0 is not newer than installed 1.0.0',
      },
      {
        what: 'wrongly signed',
        bundle: stranger,
        file: stranger.path,
        extra: {},
        reason: 'unknown-key',
        detail: 'which is not trusted',
      },
      {
        what: 'wrong hardware',
        bundle: otherBoard,
        file: otherBoard.path,
        extra: {},
        reason: 'wrong-hardware',
        detail: `bundle is for other-board; this sign is ${HARDWARE}`,
      },
      {
        what: 'revoked key',
        bundle: revoked,
        file: revoked.path,
        extra: {},
        reason: 'revoked-key',
        detail: 'revoked by statement 2 (key leaked)',
      },
    ];
    for (const c of cases) {
      const url = server.serve(`${c.what.replace(/ /g, '-')}.bundle`, c.file);
      const offer = await watcher.offer(c.bundle, url, c.extra);
      const outcome = await watcher.outcome(offer.offerId);
      expect({
        what: c.what,
        result: outcome.result,
        reason: outcome.reason,
        detail: outcome.detail,
      }).toMatchObject({ what: c.what, result: 'failed', reason: c.reason });
      expect(outcome.detail, c.what).toContain(c.detail);
      expect(watcher.phasesOf(offer.offerId).at(-1), c.what).toBe('idle');
    }
    // A downgrade is refused from the offer alone: not one byte is spent on it.
    expect(server.sent.get('/downgraded.bundle') ?? 0).toBe(0);
    // Nothing was ever switched: the sign still runs what it was provisioned with.
    expect(slots.current()).toBe('a');
    expect(slots.committedVersion()).toBe('1.0.0');
  });

  it('resumes a broken-off download with a Range request and fetches only the missing bytes', async () => {
    const { root, watcher } = await startAgent('resume');
    const bundle = await smallBundle({
      dir: root,
      version: '1.1.0',
      key: keys.release,
      bulkBytes: 2 * 1024 * 1024,
    });
    const url = server.serve('resume.bundle', bundle.path);
    server.dropAfterBytes = 700_000;
    const offer = await watcher.offer(bundle, url);
    await waitFor(
      'the install step',
      () => watcher.phasesOf(offer.offerId).includes('installing'),
      15_000,
    );
    const [first, second, ...more] = server.requests.filter((r) => r.path === '/resume.bundle');
    expect(more).toEqual([]);
    expect(first?.range).toBeUndefined();
    // The resumed request starts where the file on disk ends and carries exactly the rest.
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(second?.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(700_000);
    expect(second?.sent).toBe(bundle.size - resumedAt);
  });

  it('gives up after the capped number of attempts and reports a terminal failure', async () => {
    const { root, watcher } = await startAgent('unreachable', { maxAttempts: 3 });
    const bundle = await smallBundle({ dir: root, version: '1.1.0', key: keys.release });
    const offer = await watcher.offer(
      bundle,
      `http://127.0.0.1:${await unusedPort()}/nowhere.bundle`,
    );
    const outcome = await watcher.outcome(offer.offerId);
    expect(outcome.result).toBe('failed');
    expect(outcome.reason).toBe('download-failed');
    expect(outcome.detail).toContain('gave up after 3 attempts');
    const attempts = watcher.statuses
      .filter((s) => s.offerId === offer.offerId)
      .map((s) => s.attempt ?? 0);
    expect(Math.max(...attempts)).toBe(2);
  });

  it('stops at the data budget when a flaky link would cost more than the update allows', async () => {
    const { root, watcher } = await startAgent('budget', { dataBudgetFactor: 1 });
    const bundle = await smallBundle({
      dir: root,
      version: '1.1.0',
      key: keys.release,
      bulkBytes: 1024 * 1024,
    });
    // The first transfer breaks off and the server ignores Range, so the retry starts from zero
    // and would fetch more than the budget of one bundle.
    const url = server.serve('budget.bundle', bundle.path);
    server.ignoreRanges = true;
    server.dropAfterBytes = 600_000;
    try {
      const offer = await watcher.offer(bundle, url);
      const outcome = await watcher.outcome(offer.offerId);
      expect(outcome.reason).toBe('data-budget');
      expect(outcome.detail).toBe('the data budget for this update is spent');
    } finally {
      server.ignoreRanges = false;
    }
  });
});
