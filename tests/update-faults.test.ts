/**
 * Fault injection with real processes: a sign disk in a temp directory runs
 * the sign and the update agent from real release bundles (their own Node.js
 * 24 runtime and native modules), updated from a real HTTP server through a
 * real broker. The agent is killed with SIGKILL during download, install,
 * switch and trial; each time the sign ends on a working slot. A release that
 * crashes at start, and one that never reaches the broker, are rolled back.
 *
 * The first run on a machine builds the runtime half of the bundles (Node.js
 * from the npm registry, native modules compiled for it) into var/bundle-cache;
 * later runs reuse it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdatePhase } from '../shared';
import type { BuiltBundle } from '../scripts/bundle/makeBundle';
import { BundleServer } from './helpers/bundleServer';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { FleetUpdateWatcher } from './helpers/fleetUpdateWatcher';
import { OtaDevice } from './helpers/otaDevice';
import { startPanelRig } from './helpers/panelRig';
import { buildReleaseSet, PROJECT_ROOT, type ReleaseSet } from './helpers/releaseBundles';

const BUILD_TIMEOUT_MS = 30 * 60_000;
const figures: Record<string, unknown> = {};

describe('updates under fault injection (real processes)', () => {
  let dir: string;
  let releases: ReleaseSet;
  let broker: TestBroker;
  let server: BundleServer;
  /** Caps downloads so a kill lands inside one: the bundle takes about four seconds. */
  let bytesPerSecond: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-ota-'));
    const started = performance.now();
    releases = await buildReleaseSet(dir);
    figures.bundleBuildSeconds = (performance.now() - started) / 1000;
    figures.bundleBytes = releases.v2.size;
    figures.bundleUnpackedBytes = releases.v2.manifest.totalSize;
    figures.bundleFiles = releases.v2.manifest.files.length;
    bytesPerSecond = Math.ceil(releases.v2.size / 4);
    broker = await startBroker();
    server = new BundleServer();
    await server.start();
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await broker?.close();
    fs.mkdirSync(path.join(PROJECT_ROOT, 'var'), { recursive: true });
    fs.writeFileSync(
      path.join(PROJECT_ROOT, 'var', 'ota-figures.json'),
      `${JSON.stringify(figures, null, 2)}\n`,
    );
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }, 120_000);

  interface Kill {
    phase: UpdatePhase;
    /** After the state file shows `phase`, wait this long, then SIGKILL the agent. */
    afterMs: number;
    /** Only once the download has this much on disk (downloads). */
    partBytes?: number;
  }

  async function updateOnce(
    name: string,
    bundle: BuiltBundle,
    options: { kill?: Kill; agentEnv?: Record<string, string> } = {},
  ) {
    const deviceId = `ota-${name}`;
    const rig = await startPanelRig({ driver: false });
    const device = new OtaDevice({
      dir: path.join(dir, name),
      deviceId,
      brokerUrl: broker.url,
      serialPath: rig.pair.devicePath,
      keys: [releases.key.entry],
      agentEnv: {
        STOPSIGN_UPDATE_MAX_BYTES_PER_SECOND: String(bytesPerSecond),
        STOPSIGN_UPDATE_TRIAL_SECONDS: '30',
        STOPSIGN_UPDATE_BOOT_TRIES: '3',
        ...options.agentEnv,
      },
    });
    const watcher = new FleetUpdateWatcher(broker.url, deviceId);
    try {
      await device.provision(releases.v1.path);
      device.startSign();
      await device.waitUntilServing('1.0.0');
      device.startAgent();
      await watcher.start();
      const url = server.serve(`${name}.bundle`, bundle.path);
      const began = performance.now();
      const offer = await watcher.offer(bundle, url);
      let killedIn: string | null = null;
      if (options.kill) {
        const { phase, afterMs, partBytes = 0 } = options.kill;
        const part = path.join(device.stateDir, 'downloads', `${bundle.sha256}.part`);
        await waitFor(
          `the agent in ${phase}`,
          () =>
            device.state()?.phase === phase &&
            (fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) >= partBytes,
          60_000,
          10,
        );
        await new Promise((r) => setTimeout(r, afterMs));
        killedIn = device.state()?.phase ?? 'unknown';
        await device.killAgent();
      }
      const outcome = await watcher.outcome(offer.offerId, 120_000);
      const seconds = (performance.now() - began) / 1000;
      const serving = outcome.result === 'committed' ? bundle.manifest.version : '1.0.0';
      const health = await device.waitUntilServing(serving);
      // The binary the sign process runs, read while it runs.
      const exe = fs.readlinkSync(`/proc/${health.pid}/exe`);
      // The disk is freed after the case: note where its links point now.
      const slots = { current: device.slots.current(), committed: device.slots.committed() };
      const slotBinary = (slot: 'a' | 'b') =>
        path.join(device.slots.dir(slot), 'runtime', 'bin', 'node');
      return {
        exe,
        slots,
        slotBinary,
        device,
        watcher,
        offer,
        outcome,
        killedIn,
        health,
        seconds,
        requests: server.requests.filter((r) => r.path === `/${name}.bundle`),
      };
    } finally {
      await watcher.stop();
      await device.stop();
      await rig.close();
      // Each disk holds two slots of about 150 MB: free them as soon as the case is done.
      await fs.promises.rm(path.join(dir, name, 'opt'), { recursive: true, force: true });
    }
  }

  const matrix: Record<string, string> = {};
  afterAll(() => {
    figures.matrix = matrix;
  });

  it('updates a running sign and measures download and apply', async () => {
    const run = await updateOnce('clean', releases.v2);
    expect(run.outcome.result).toBe('committed');
    expect(run.health.version).toBe('1.1.0');
    expect(run.watcher.phasesOf(run.offer.offerId)).toEqual([
      'downloading',
      'verifying',
      'installing',
      'switching',
      'trial',
      'committed',
      'idle',
    ]);
    // The sign runs under the runtime its bundle ships, not the one running these tests.
    expect(run.slots).toEqual({ current: 'b', committed: 'b' });
    expect(run.exe).toBe(run.slotBinary('b'));
    // Millisecond times of each state change, from the agent's own log.
    const entered = new Map<string, number>();
    for (const line of fs.readFileSync(`${run.device.log}.agent`, 'utf8').split('\n')) {
      if (!line.includes('"msg":"update state"')) continue;
      const entry = JSON.parse(line) as { time: number; to: string };
      if (!entered.has(entry.to)) entered.set(entry.to, entry.time);
    }
    const between = (from: string, to: string) =>
      ((entered.get(to) ?? NaN) - (entered.get(from) ?? NaN)) / 1000;
    figures.cleanUpdateSeconds = run.seconds;
    figures.downloadSeconds = between('downloading', 'verifying');
    figures.verifySeconds = between('verifying', 'installing');
    figures.installSeconds = between('installing', 'switching');
    figures.switchAndTrialSeconds = between('switching', 'committed');
    figures.applySeconds = between('verifying', 'committed');
    figures.downloadCapBytesPerSecond = bytesPerSecond;
    matrix['no fault'] = `${run.outcome.result} ${run.health.version}`;
  }, 240_000);

  it('a kill during download resumes, fetching only the missing bytes', async () => {
    const run = await updateOnce('kill-download', releases.v2, {
      kill: { phase: 'downloading', afterMs: 0, partBytes: Math.floor(releases.v2.size / 3) },
    });
    expect(run.killedIn).toBe('downloading');
    expect(run.outcome.result).toBe('committed');
    expect(run.health.version).toBe('1.1.0');
    const [first, second, ...rest] = run.requests;
    expect(rest).toEqual([]);
    expect(first?.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(second?.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(releases.v2.size / 4);
    expect(second?.sent).toBe(releases.v2.size - resumedAt);
    figures.resume = {
      bundleBytes: releases.v2.size,
      onDiskAtKill: resumedAt,
      bytesAfterRestart: second?.sent,
      // Written by the server before the kill, including what sat in socket buffers.
      bytesFirstRequest: first?.sent,
      bytesServedInAll: (first?.sent ?? 0) + (second?.sent ?? 0),
    };
    matrix['download'] = `${run.outcome.result} ${run.health.version}`;
  }, 240_000);

  it('a kill during install starts the spare slot over and commits', async () => {
    const run = await updateOnce('kill-install', releases.v2, {
      kill: { phase: 'installing', afterMs: 1_500 },
    });
    expect(run.killedIn).toBe('installing');
    expect(run.outcome.result).toBe('committed');
    expect(run.health.version).toBe('1.1.0');
    matrix['install'] = `${run.outcome.result} ${run.health.version}`;
  }, 240_000);

  it('a kill during the switch redoes it and commits', async () => {
    // Each step of the switch waits a second, so the kill lands after the link moved, before the restart.
    const run = await updateOnce('kill-switch', releases.v2, {
      kill: { phase: 'switching', afterMs: 1_500 },
      agentEnv: { STOPSIGN_UPDATE_STEP_PAUSE_MS: '1000' },
    });
    expect(run.killedIn).toBe('switching');
    expect(run.outcome.result).toBe('committed');
    expect(run.health.version).toBe('1.1.0');
    matrix['switch'] = `${run.outcome.result} ${run.health.version}`;
  }, 240_000);

  it('a kill during trial goes on judging the new slot and commits', async () => {
    const run = await updateOnce('kill-trial', releases.v2, {
      kill: { phase: 'trial', afterMs: 200 },
    });
    expect(run.killedIn).toBe('trial');
    expect(run.outcome.result).toBe('committed');
    expect(run.health.version).toBe('1.1.0');
    matrix['trial'] = `${run.outcome.result} ${run.health.version}`;
  }, 240_000);

  it('a release that crashes at start is rolled back by the boot counter', async () => {
    const run = await updateOnce('crashing', releases.crashing);
    expect(run.outcome.result).toBe('rolled-back');
    expect(run.outcome.reason).toBe('crashed-at-start');
    expect(run.health.version).toBe('1.0.0');
    expect(run.slots).toEqual({ current: 'a', committed: 'a' });
    const starts = fs
      .readFileSync(run.device.log, 'utf8')
      .split('\n')
      .filter((l) => / start sign b /.test(l));
    expect(starts).toHaveLength(3);
    matrix['release crashes at start'] =
      `${run.outcome.result} (${run.outcome.reason}) ${run.health.version}`;
  }, 240_000);

  it('a release that never reaches the broker is rolled back after the trial window', async () => {
    const run = await updateOnce('unconnected', releases.unconnected, {
      agentEnv: { STOPSIGN_UPDATE_TRIAL_SECONDS: '12' },
    });
    expect(run.outcome.result).toBe('rolled-back');
    expect(run.outcome.reason).toBe('health-check-failed');
    expect(run.outcome.detail).toContain('it is not connected to the broker');
    expect(run.health.version).toBe('1.0.0');
    matrix['release never connects'] =
      `${run.outcome.result} (${run.outcome.reason}) ${run.health.version}`;
  }, 240_000);
});
