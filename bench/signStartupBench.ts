/**
 * Start-up time and memory of the sign firmware as a real process, driving the
 * simulated panel over a pty, against a bare Node.js process in the same run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { z } from 'zod';
import { ensureProvisioned } from '../device/provision/provisionSign';
import { PanelSimulator } from '../device/panel/panelSimulator';
import { SerialPortLink } from '../device/panel/serialLink';
import { createOperator, createToken, openAdminTools } from '../manager/cli/adminTools';
import { ManagerApi } from '../manager/cli/managerApi';
import { loadManagerConfig } from '../manager/config';
import { Manager } from '../manager/manager';
import { openPtyPair } from '../scripts/lib/ptyPair';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { printFigures, rssMiB } from './measure';

const root = path.resolve(import.meta.dirname, '..');
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bareNode(): Promise<{ startMs: number; rss: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [
    '-e',
    'process.stdout.write("up"); setInterval(() => {}, 1000)',
  ]);
  await new Promise((resolve) => child.stdout.once('data', resolve));
  const startMs = performance.now() - started;
  await settle(1000);
  const rss = rssMiB(child.pid ?? 0);
  child.kill();
  return { startMs, rss };
}

export async function benchSignStartup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-'));
  const gtfsPath = path.join(dir, 'tiny.zip');
  fs.writeFileSync(gtfsPath, tinyGtfsZip());
  const config = loadManagerConfig(
    {},
    {
      httpPort: 0,
      brokerPort: 0,
      dataDir: path.join(dir, 'manager'),
      gtfsPath,
      scryptCost: 12,
    },
  );
  const manager = new Manager(config, pino({ level: 'silent' }));
  const endpoints = await manager.start();
  const tools = await openAdminTools(config);
  await createOperator(tools, { username: 'bench', role: 'admin' });
  const { token } = await createToken(tools, { username: 'bench', name: 'bench' });
  await tools.close();
  const api = new ManagerApi(endpoints.httpUrl, { caPem: endpoints.caPem, token });
  const created = await api.post('/api/signs', { deviceId: 'bench-sign', stopId: STOP_CENTRAL });
  const { claim } = z
    .object({ claim: z.object({ claim: z.string() }) })
    .parse(await created.json());
  await api.close();
  // Provisioned once, here: each measured start begins from a copy of its credentials,
  // as a sign in service does (the claim exchange happens once in a sign's life).
  const provisioned = path.join(dir, 'sign-provisioned');
  await ensureProvisioned({
    dataDir: provisioned,
    claim: claim.claim,
    logger: pino({ level: 'silent' }),
  });
  const pty = await openPtyPair(dir);

  const bare = await bareNode();
  const run = async (
    label: string,
    args: string[],
  ): Promise<{ firstFrameMs: number; rss: number }> => {
    // A fresh panel with blank glass for each sign, so its first frame is what is seen.
    const simulator = new PanelSimulator({
      link: new SerialPortLink({ path: pty.panelPath, baudRate: 921_600 }),
      width: 192,
      height: 64,
    });
    await simulator.start();
    const dataDir = path.join(dir, `sign-${label}`);
    fs.cpSync(provisioned, dataDir, { recursive: true });
    const started = performance.now();
    const sign = spawn(process.execPath, args, {
      cwd: root,
      stdio: 'ignore',
      env: {
        ...process.env,
        STOPSIGN_DATA_DIR: dataDir,
        STOPSIGN_SERIAL_PATH: pty.devicePath,
        STOPSIGN_LOG_LEVEL: 'warn',
      },
    });
    await simulator.waitFor((frame) => frame.pixels.some((p) => p !== 0), 30_000);
    const firstFrameMs = performance.now() - started;
    await settle(3000);
    const rss = rssMiB(sign.pid ?? 0);
    const exited = new Promise((resolve) => sign.once('exit', resolve));
    sign.kill('SIGTERM');
    await exited;
    await simulator.stop();
    return { firstFrameMs, rss };
  };
  const shipped = await run('bundle', [path.join(root, 'dist/sign.mjs')]);
  const dev = await run('tsx', ['--import', 'tsx', path.join(root, 'device/main.ts')]);

  await pty.close();
  await manager.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  const vsBareStart = { name: 'bare node start', value: bare.startMs };
  const vsBareRss = { name: 'bare node', value: bare.rss };
  printFigures(`sign firmware process (${process.arch})`, [
    {
      name: 'dist/sign.mjs: start → first frame on the panel',
      value: shipped.firstFrameMs,
      unit: 'ms',
      baseline: vsBareStart,
    },
    {
      name: 'dist/sign.mjs: RSS 3 s after first frame',
      value: shipped.rss,
      unit: 'MiB',
      baseline: vsBareRss,
    },
    {
      name: 'tsx device/main.ts: start → first frame',
      value: dev.firstFrameMs,
      unit: 'ms',
      baseline: vsBareStart,
    },
    {
      name: 'tsx device/main.ts: RSS 3 s after first frame',
      value: dev.rss,
      unit: 'MiB',
      baseline: vsBareRss,
    },
  ]);
}
