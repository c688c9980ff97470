/**
 * Provisioning end to end, on a manager that made its own CA at first start:
 * the sign CLI creates a sign and its claim (and QR code); a sign process
 * with nothing but that claim on a factory-fresh disk becomes a provisioned,
 * live sign; the code works once; a revoked sign is cut off within a second
 * and refused afterwards; re-provisioning brings it back with new credentials
 * and kills the old ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaimError } from '../device/provision/claimClient';
import { readCredentials } from '../device/provision/credentialsFile';
import { ensureProvisioned } from '../device/provision/provisionSign';
import { formatClaim, parseClaim } from '../shared';
import type { RefusalSnapshot } from '../manager/broker/brokerRefusals';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { startPanelRig, type PanelRig } from './helpers/panelRig';
import { startTestManager, type RunningManager } from './helpers/system';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const DEVICE = 'fresh-1';

interface SignRow {
  deviceId: string;
  online: boolean;
  provisioning: { state: string } | null;
}

describe('provisioning a factory-fresh sign', () => {
  let dir: string;
  let manager: RunningManager;
  let rig: PanelRig;
  let signProcess: ChildProcess | undefined;
  let claim = '';
  const signDir = () => path.join(dir, 'sign-disk');

  const row = async (): Promise<SignRow | undefined> =>
    (await manager.api.json<SignRow[]>('/api/signs')).find((s) => s.deviceId === DEVICE);

  const startSignProcess = (withClaim: string): ChildProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'device/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        // A factory-fresh sign knows its claim, its serial port and where to keep its data: nothing else.
        STOPSIGN_CLAIM: withClaim,
        STOPSIGN_DATA_DIR: signDir(),
        STOPSIGN_SERIAL_PATH: rig.pair.devicePath,
        STOPSIGN_RECONNECT_MIN_MS: '100',
        STOPSIGN_RECONNECT_MAX_MS: '300',
        STOPSIGN_STATUS_INTERVAL_SECONDS: '1',
        STOPSIGN_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', () => undefined);
    return child;
  };
  const stopSignProcess = async (): Promise<void> => {
    const child = signProcess;
    signProcess = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-provision-'));
    manager = await startTestManager(dir, { ownCa: true });
    rig = await startPanelRig({ driver: false });
  }, 60_000);

  afterAll(async () => {
    await stopSignProcess();
    await rig?.close();
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('made its own CA at first start, its key readable by the manager only', () => {
    const tlsDir = path.join(manager.config.dataDir, 'tls');
    expect(fs.statSync(path.join(tlsDir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(tlsDir, 'server-key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(path.join(tlsDir, 'ca.pem'), 'utf8')).toBe(manager.caPem);
  });

  it('creates the sign and its claim with the CLI, QR code included', async () => {
    const qr = path.join(dir, 'label.png');
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'manager/cli/sign.ts',
        'create',
        '--stop',
        STOP_CENTRAL,
        '--device-id',
        DEVICE,
        '--label',
        'bay 3',
        '--qr',
        qr,
        '--json',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          STOPSIGN_API_URL: manager.httpUrl,
          STOPSIGN_API_TOKEN: await manager.tokenFor('maintenance'),
          STOPSIGN_API_CA_FILE: path.join(manager.config.dataDir, 'tls', 'ca.pem'),
        },
      },
    );
    const created = JSON.parse(stdout) as { deviceId: string; claim: string; expiresAt: number };
    expect(created.deviceId).toBe(DEVICE);
    expect(parseClaim(created.claim)).toMatchObject({
      managerUrl: new URL(manager.httpUrl).origin,
      caFingerprint: manager.caFingerprint,
    });
    expect(fs.readFileSync(qr).subarray(1, 4).toString()).toBe('PNG');
    claim = created.claim;
    expect((await row())?.provisioning?.state).toBe('awaiting-claim');
  });

  it('refuses to send the code to a manager whose CA is not the one in the claim', async () => {
    const forged = formatClaim({ ...parseClaim(claim), caFingerprint: 'ab'.repeat(32) });
    const attempt = ensureProvisioned({
      dataDir: path.join(dir, 'elsewhere'),
      claim: forged,
      logger: pino({ level: 'silent' }),
      attempts: 1,
    });
    await expect(attempt).rejects.toThrow(ClaimError);
    await expect(attempt).rejects.toThrow(/not the one in the claim/);
    // The code was never sent, so it is still good.
    expect((await row())?.provisioning?.state).toBe('awaiting-claim');
  });

  it('turns a sign process with only the claim into a live, provisioned sign', async () => {
    signProcess = startSignProcess(claim);
    await waitFor('the new sign online', async () => (await row())?.online === true, 30_000);
    expect((await row())?.provisioning?.state).toBe('active');
    const file = path.join(signDir(), 'credentials.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readCredentials(signDir())).toMatchObject({ deviceId: DEVICE, stopId: STOP_CENTRAL });
    // Nothing half-written is left beside it.
    expect(fs.readdirSync(signDir()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 40_000);

  it('does not let the code be used twice', async () => {
    const code = parseClaim(claim).code;
    const again = await manager.api.as(undefined).post('/api/claim', { code });
    expect(again.status).toBe(409);
  });

  it('cuts a revoked sign off within a second and refuses it afterwards', async () => {
    const revoked = await manager.api.post(`/api/signs/${DEVICE}/revoke`);
    expect(revoked.status).toBe(204);
    await waitFor('the sign shown offline', async () => (await row())?.online === false, 1000);
    const health = () => manager.api.json<{ brokerRefusals: RefusalSnapshot }>('/api/health');
    // It keeps trying, and is refused each time.
    await waitFor(
      'its reconnects refused',
      async () => ((await health()).brokerRefusals.byReason.revoked ?? 0) >= 2,
      5000,
    );
    expect((await row())?.online).toBe(false);
    expect((await row())?.provisioning?.state).toBe('revoked');
  });

  it('re-provisions: a new claim brings the sign back, the old secret stays dead', async () => {
    const old = readCredentials(signDir());
    await stopSignProcess();
    const res = await manager.api.post(`/api/signs/${DEVICE}/reprovision`);
    expect(res.status).toBe(201);
    const fresh = (await res.json()) as { claim: { claim: string; qrPng: string } };
    expect(Buffer.from(fresh.claim.qrPng, 'base64').subarray(1, 4).toString()).toBe('PNG');
    signProcess = startSignProcess(fresh.claim.claim);
    await waitFor('the sign online again', async () => (await row())?.online === true, 30_000);
    expect(readCredentials(signDir())?.mqtt.password).not.toBe(old?.mqtt.password);
    const stale = await mqtt
      .connectAsync(manager.brokerUrl, {
        clientId: DEVICE,
        username: DEVICE,
        password: old?.mqtt.password ?? '',
        ca: manager.caPem,
        reconnectPeriod: 0,
      })
      .then(
        (client) => {
          client.end(true);
          return 'connected';
        },
        (err: Error) => err.message,
      );
    expect(stale).toMatch(/username or password|authori/i);
    expect((await row())?.online).toBe(true);
  }, 40_000);
});
