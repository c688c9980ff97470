/**
 * A sign whose SQLite cache is corrupt (truncated, garbage in the header, or
 * garbage in a page) still starts: it sets the file aside, shows that it is
 * updating, and the manager's retained messages resupply it within seconds.
 * A real sign process, a real manager and the panel simulator on a pty.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignCache } from '../device/cache/signCache';
import { configData, scheduleData, nowSeconds, waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { startPanelRig, type PanelRig } from './helpers/panelRig';
import { ensureProvisioned } from '../device/provision/provisionSign';
import { CREDENTIALS_FILE } from '../device/provision/credentialsFile';
import { createSign, quietLogger, startTestManager, type RunningManager } from './helpers/system';

const root = path.resolve(import.meta.dirname, '..');
const DEVICE = 'heal-1';

/** A cache as a healthy run leaves it: config and a full offline schedule (many pages). */
function writeHealthyCache(dbPath: string): void {
  const cache = new SignCache({ path: dbPath });
  cache.open();
  cache.saveConfig(configData({ deviceId: DEVICE, stopId: STOP_CENTRAL }));
  cache.replaceSchedule({ ...scheduleData(nowSeconds(), 3000), stopId: STOP_CENTRAL });
  cache.close();
}

const corruptions: [string, (file: string) => void][] = [
  ['truncated', (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 3))],
  [
    'garbage in the header',
    (file) => {
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(100, 0xa7), 0, 100, 0);
      fs.closeSync(fd);
    },
  ],
  [
    'garbage in a page',
    (file) => {
      const fd = fs.openSync(file, 'r+');
      // Page 3 onwards holds the schedule's rows and index.
      fs.writeSync(fd, Buffer.alloc(4096, 0x5c), 0, 4096, 2 * 4096);
      fs.closeSync(fd);
    },
  ],
];

describe('a sign started on a corrupt cache', () => {
  let dir: string;
  let manager: RunningManager;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-heal-'));
    manager = await startTestManager(dir);
    // Provisioned once; each run below starts from these credentials and a corrupt cache.
    await ensureProvisioned({
      dataDir: path.join(dir, 'provisioned'),
      claim: await createSign(manager, { deviceId: DEVICE, stopId: STOP_CENTRAL }),
      logger: quietLogger,
      attempts: 3,
      retryMinMs: 100,
    });
  });
  afterAll(async () => {
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(corruptions)(
    '%s: sets it aside, says it is updating, and is resupplied',
    async (label, corrupt) => {
      const dataDir = path.join(dir, label.replace(/\W+/g, '-'));
      fs.mkdirSync(dataDir);
      const dbPath = path.join(dataDir, 'sign.db');
      writeHealthyCache(dbPath);
      corrupt(dbPath);
      fs.copyFileSync(
        path.join(dir, 'provisioned', CREDENTIALS_FILE),
        path.join(dataDir, CREDENTIALS_FILE),
      );
      fs.chmodSync(path.join(dataDir, CREDENTIALS_FILE), 0o600);

      const rig: PanelRig = await startPanelRig({ driver: false });
      let sign: ChildProcess | undefined;
      let log = '';
      try {
        sign = spawn(process.execPath, ['--import', 'tsx', 'device/main.ts'], {
          cwd: root,
          env: {
            ...process.env,
            STOPSIGN_DATA_DIR: dataDir,
            STOPSIGN_SERIAL_PATH: rig.pair.devicePath,
            STOPSIGN_STATUS_INTERVAL_SECONDS: '1',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        sign.stdout?.on('data', (d: Buffer) => (log += d.toString()));
        sign.stderr?.on('data', (d: Buffer) => (log += d.toString()));
        const simulator = rig.simulator;
        if (!simulator) throw new Error('no simulator');

        await waitFor(
          'the cache set aside',
          () => log.includes('sign cache was unreadable'),
          20_000,
        );
        expect(fs.readdirSync(dataDir).some((f) => f.startsWith('sign.db.corrupt-'))).toBe(true);
        // The glass lights up (an "updating" board or better), it does not stay frozen or dark.
        await simulator.waitFor((frame) => frame.pixels.some((p) => p !== 0), 20_000);
        // Resupplied from the manager's retained config and schedule: live again.
        await waitFor(
          'the manager to see the sign live',
          async () => {
            const signs =
              await manager.api.json<{ deviceId: string; mode: string }[]>('/api/signs');
            return signs.find((s) => s.deviceId === DEVICE)?.mode === 'live';
          },
          20_000,
          200,
        );
        expect(sign.exitCode).toBeNull();
      } finally {
        if (sign && sign.exitCode === null) {
          const exited = new Promise((r) => sign?.once('exit', r));
          sign.kill('SIGTERM');
          await exited;
        }
        await rig.close();
      }
    },
    90_000,
  );
});
