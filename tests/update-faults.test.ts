/**
 * Fault injection with real processes: a sign disk in a temp directory runs
 * the sign and the update agent from real release bundles (their own Node.js
 * 22 runtime and native modules), updated from a real HTTP server through a
 * real broker. The agent is killed with SIGKILL during download, install,
 * switch and trial, each kill timed by the agent's own state on disk; each
 * time the sign ends on a working slot. A release that crashes at start, and
 * one that never reaches the broker, are rolled back.
 *
 * The releases are packed once for the file from the runtime scripts/setup.sh
 * built into var/bundle-cache, every disk is flashed from one provisioned
 * image, and the cases run side by side.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { UpdatePhase } from '../shared';
import type { BuiltBundle } from '../scripts/bundle/makeBundle';
import { BundleServer } from './helpers/bundleServer';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { waitFor } from './helpers/deviceFixtures';
import { FleetUpdateWatcher } from './helpers/fleetUpdateWatcher';
import { OtaDevice } from './helpers/otaDevice';
import { startPanelRig } from './helpers/panelRig';
import { buildReleaseSet, type ReleaseSet } from './helpers/releaseBundles';

/** Covers building the runtime when setup did not (minutes); a built cache takes seconds. */
const BUILD_TIMEOUT_MS = 30 * 60_000;
/** A case may wait for a free place among SIGNS_AT_ONCE before its own minute or so. */
const CASE_TIMEOUT_MS = 300_000;
/**
 * Cases run side by side, but at most this many signs at once: each is a Node.js process
 * rendering frames over a pty, and the machine is shared with the rest of the suite.
 */
const SIGNS_AT_ONCE = 4;

/** Runs fn once fewer than `limit` others are running; a finishing run hands its place on. */
function placeLimiter(limit: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

interface Kill {
  phase: UpdatePhase;
  /** The moment to strike, read from the disk while the agent is in `phase`. */
  when: (device: OtaDevice, bundle: BuiltBundle) => boolean;
}

describe.concurrent('updates under fault injection (real processes)', () => {
  let dir: string;
  let releases: ReleaseSet;
  let broker: TestBroker;
  let server: BundleServer;
  let factory: OtaDevice;
  /** Caps downloads so a kill lands inside one: the bundle takes about two seconds. */
  let bytesPerSecond: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-ota-'));
    releases = await buildReleaseSet(dir);
    bytesPerSecond = Math.ceil(releases.v2.size / 2);
    broker = await startBroker();
    server = new BundleServer();
    await server.start();
    // The factory image: release 1.0.0 provisioned once; every case's disk is flashed from it.
    factory = new OtaDevice({
      dir: path.join(dir, 'factory'),
      deviceId: 'factory',
      brokerUrl: broker.url,
      serialPath: '/dev/null',
      keys: [releases.key.entry],
    });
    await factory.provision(releases.v1.path);
  }, BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    await broker?.close();
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  }, 120_000);

  const inPlace = placeLimiter(SIGNS_AT_ONCE);

  function updateOnce(
    name: string,
    bundle: BuiltBundle,
    options: { kill?: Kill; agentEnv?: Record<string, string> } = {},
  ) {
    return inPlace(() => runUpdate(name, bundle, options));
  }

  async function runUpdate(
    name: string,
    bundle: BuiltBundle,
    options: { kill?: Kill; agentEnv?: Record<string, string> },
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
        // A healthy release commits as soon as it proves itself; only a failing one waits this out.
        STOPSIGN_UPDATE_TRIAL_SECONDS: '60',
        STOPSIGN_UPDATE_BOOT_TRIES: '3',
        ...options.agentEnv,
      },
    });
    const watcher = new FleetUpdateWatcher(broker.url, deviceId);
    try {
      device.flashFrom(factory);
      device.startSign();
      await device.waitUntilServing('1.0.0');
      device.startAgent();
      await watcher.start();
      const url = server.serve(`${name}.bundle`, bundle.path);
      const offer = await watcher.offer(bundle, url);
      let killedIn: string | null = null;
      let spareAtKill: unknown = null;
      let currentAtKill: string | null = null;
      if (options.kill) {
        const { phase, when } = options.kill;
        await waitFor(
          `the agent in ${phase}`,
          () => device.state()?.phase === phase && when(device, bundle),
          60_000,
          5,
        );
        killedIn = device.state()?.phase ?? 'unknown';
        spareAtKill = device.slots.info('b');
        currentAtKill = device.slots.current();
        await device.killAgent();
      }
      const outcome = await watcher.outcome(offer.offerId, 120_000);
      const serving = outcome.result === 'committed' ? bundle.manifest.version : '1.0.0';
      const health = await device.waitUntilServing(serving);
      // The binary the sign process runs, read while it runs.
      const exe = fs.readlinkSync(`/proc/${health.pid}/exe`);
      // The disk is freed after the case: note where its links point now.
      const slots = { current: device.slots.current(), committed: device.slots.committed() };
      const slotBinary = (slot: 'a' | 'b') =>
        path.join(device.slots.dir(slot), 'runtime', 'bin', 'node');
      const signLog = fs.readFileSync(device.log, 'utf8');
      return {
        exe,
        slots,
        slotBinary,
        signLog,
        watcher,
        offer,
        outcome,
        killedIn,
        spareAtKill,
        currentAtKill,
        health,
        requests: server.requests.filter((r) => r.path === `/${name}.bundle`),
      };
    } finally {
      await watcher.stop();
      await device.stop();
      await rig.close();
      // Each disk holds a second slot of about 150 MB: free it as soon as the case is done.
      await fs.promises.rm(path.join(dir, name), { recursive: true, force: true });
    }
  }

  it(
    'updates a running sign, which then runs under the bundled Node.js',
    async ({ expect }) => {
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
      expect(run.exe).not.toBe(process.execPath);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a kill during download resumes, fetching only the missing bytes',
    async ({ expect }) => {
      const run = await updateOnce('kill-download', releases.v2, {
        kill: {
          phase: 'downloading',
          when: (device, bundle) => {
            const part = path.join(device.stateDir, 'downloads', `${bundle.sha256}.part`);
            return (fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) >= bundle.size / 3;
          },
        },
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
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a kill during install starts the spare slot over and commits',
    async ({ expect }) => {
      const run = await updateOnce('kill-install', releases.v2, {
        kill: {
          phase: 'installing',
          // Files are landing in the spare slot; it is not marked installed yet.
          when: (device) =>
            fs.existsSync(path.join(device.slots.dir('b'), 'app', 'node_modules')) &&
            device.slots.info('b') === null,
        },
      });
      expect(run.killedIn).toBe('installing');
      expect(run.spareAtKill).toBeNull();
      expect(run.outcome.result).toBe('committed');
      expect(run.health.version).toBe('1.1.0');
      expect(run.exe).toBe(run.slotBinary('b'));
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a kill during the switch, after the link moved and before the restart, redoes it and commits',
    async ({ expect }) => {
      // Each step of the switch pauses, so the kill lands between moving the link and the restart.
      const run = await updateOnce('kill-switch', releases.v2, {
        kill: { phase: 'switching', when: (device) => device.slots.current() === 'b' },
        agentEnv: { STOPSIGN_UPDATE_STEP_PAUSE_MS: '500' },
      });
      expect(run.killedIn).toBe('switching');
      expect(run.currentAtKill).toBe('b');
      expect(run.outcome.result).toBe('committed');
      expect(run.health.version).toBe('1.1.0');
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a kill during trial goes on judging the new slot and commits',
    async ({ expect }) => {
      const run = await updateOnce('kill-trial', releases.v2, {
        kill: { phase: 'trial', when: () => true },
      });
      expect(run.killedIn).toBe('trial');
      expect(run.outcome.result).toBe('committed');
      expect(run.health.version).toBe('1.1.0');
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a release that crashes at start is rolled back by the boot counter',
    async ({ expect }) => {
      const run = await updateOnce('crashing', releases.crashing);
      expect(run.outcome.result).toBe('rolled-back');
      expect(run.outcome.reason).toBe('crashed-at-start');
      expect(run.health.version).toBe('1.0.0');
      expect(run.slots).toEqual({ current: 'a', committed: 'a' });
      expect(run.exe).toBe(run.slotBinary('a'));
      const starts = run.signLog.split('\n').filter((l) => / start sign b /.test(l));
      expect(starts).toHaveLength(3);
    },
    CASE_TIMEOUT_MS,
  );

  it(
    'a release that never reaches the broker is rolled back after the trial window',
    async ({ expect }) => {
      const run = await updateOnce('unconnected', releases.unconnected, {
        agentEnv: { STOPSIGN_UPDATE_TRIAL_SECONDS: '8' },
      });
      expect(run.outcome.result).toBe('rolled-back');
      expect(run.outcome.reason).toBe('health-check-failed');
      expect(run.outcome.detail).toContain('it is not connected to the broker');
      expect(run.health.version).toBe('1.0.0');
      expect(run.slots).toEqual({ current: 'a', committed: 'a' });
    },
    CASE_TIMEOUT_MS,
  );
});
