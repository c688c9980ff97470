/**
 * systemd's watchdog for the sign: READY=1 once it runs, WATCHDOG=1 only while
 * the render loop renders. Messages go through Debian's real systemd-notify to
 * a datagram socket socat listens on, standing in for systemd's NOTIFY_SOCKET.
 * Also: the sign's health file, as the update agent reads it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthProblems, readHealth } from '../device/health/healthReport';
import { SignHealthReporter } from '../device/health/signHealthReporter';
import { RenderLoopWatchdog, SystemdNotifier, watchdogIntervalMs } from '../device/health/watchdog';
import { startBroker, type TestBroker } from './helpers/deviceBroker';
import { buildSign, waitFor } from './helpers/deviceFixtures';
import { quietLogger } from './helpers/system';

describe('sign watchdog and health', () => {
  let dir: string;
  let socat: ChildProcess;
  let received: string;
  const socket = () => path.join(dir, 'notify.sock');
  // Datagrams land back to back in the file: count each message by its text.
  const count = (m: string) =>
    fs.existsSync(received) ? fs.readFileSync(received, 'utf8').split(m).length - 1 : 0;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-watchdog-'));
    received = path.join(dir, 'received.txt');
    socat = spawn('socat', [
      '-u',
      `UNIX-RECV:${socket()},unlink-early`,
      `OPEN:${received},creat,append`,
    ]);
    await waitFor('the notify socket', () => fs.existsSync(socket()));
  });
  afterAll(() => {
    socat.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the watchdog period systemd gives, only for its own process', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' })).toBe(30_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' })).toBeNull();
    expect(watchdogIntervalMs({})).toBeNull();
  });

  it('pings only while the render loop is alive', async () => {
    let lastRender = Date.now();
    let rendering = true;
    const loop = setInterval(() => {
      if (rendering) lastRender = Date.now();
    }, 50);
    const errors: Error[] = [];
    const watchdog = new RenderLoopWatchdog({
      // socat cannot answer systemd's barrier, so the notifier does not wait for one here.
      notifier: new SystemdNotifier(
        { NOTIFY_SOCKET: socket(), PATH: process.env.PATH },
        (e) => errors.push(e),
        false,
      ),
      lastRenderMs: () => lastRender,
      clock: Date.now,
      intervalMs: 200,
      staleAfterMs: 300,
    });
    watchdog.start();
    try {
      await waitFor(
        'READY and pings',
        () => count('READY=1') === 1 && count('WATCHDOG=1') >= 3,
        10_000,
      );
      rendering = false;
      // Pings still in flight land within a moment; after that, silence.
      await new Promise((r) => setTimeout(r, 700));
      const frozen = count('WATCHDOG=1');
      await new Promise((r) => setTimeout(r, 1_000));
      expect(count('WATCHDOG=1')).toBe(frozen);
      rendering = true;
      await waitFor('pings again', () => count('WATCHDOG=1') > frozen, 5_000);
    } finally {
      clearInterval(loop);
      watchdog.stop();
    }
    expect(errors).toEqual([]);
  });

  it('writes the health facts the update agent judges a new release by', async () => {
    const broker: TestBroker = await startBroker();
    const signDir = path.join(dir, 'sign');
    const { sign } = buildSign({ brokerUrl: broker.url, dataDir: signDir });
    const healthFile = path.join(dir, 'run', 'health.json');
    const reporter = new SignHealthReporter({
      sign,
      healthFile,
      version: '3.1.0',
      startedAtMs: Date.now(),
      clock: Date.now,
      signClock: Date.now,
      logger: quietLogger,
      env: {},
    });
    try {
      const before = Date.now() - 1;
      await sign.start();
      reporter.start();
      expect(sign.state().renderedAtMs).not.toBeNull();
      await waitFor(
        'a healthy report',
        () =>
          healthProblems(readHealth(healthFile), { version: '3.1.0', startedAfterMs: before })
            .length === 0,
        10_000,
      );
      expect(readHealth(healthFile)).toMatchObject({
        pid: process.pid,
        cacheOpen: true,
        brokerConnected: true,
        frameAcked: true,
      });
      expect(
        healthProblems(readHealth(healthFile), { version: '3.2.0', startedAfterMs: before }),
      ).toEqual(['the sign runs 3.1.0, not 3.2.0']);
      await broker.close();
      await waitFor(
        'the lost broker reported',
        () => readHealth(healthFile)?.brokerConnected === false,
        10_000,
      );
      expect(
        healthProblems(readHealth(healthFile), { version: '3.1.0', startedAfterMs: before }),
      ).toEqual(['it is not connected to the broker']);
    } finally {
      reporter.stop();
      await sign.stop();
    }
  });
});
