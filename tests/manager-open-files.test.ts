/**
 * A fleet bigger than the box: the embedded manager runs under an open-file
 * limit (as a service's LimitNOFILE sets it) and far more connections arrive
 * than it has files for. The broker closes those past its cap, the operator's
 * API keeps answering and says what was refused, and once the flood is gone a
 * sign connects and goes live.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionCap, parseOpenFileLimit } from '../manager/broker/openFileLimit';
import type { ManagerApi } from '../manager/cli/managerApi';
import { adminApi, claimedFleet, fleetTls, provisionByClaim } from '../scripts/fleet/fleetSecurity';
import { ManagerProcess } from '../scripts/fleet/managerProcess';
import { waitFor } from './helpers/deviceFixtures';
import { STOP_CENTRAL } from './helpers/gtfsFixture';
import { loopbackManagerEnv } from './helpers/managerEnv';

/** Open files the manager may have; the broker keeps 256 of them for the rest of the manager. */
const OPEN_FILES = 600;
const CAP = OPEN_FILES - 256;
/** Well past the limit: without the cap the manager would run out of files. */
const FLOOD = 900;

interface Health {
  brokerRefusals: { byReason: Record<string, number> } | null;
}

/** Opens a TCP connection and resolves once it is up; it stays open until destroyed. */
function connectRaw(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('an embedded manager with more connections than open files', () => {
  let dir: string;
  let manager: ManagerProcess;
  let api: ManagerApi;
  const tls = fleetTls();
  const flood: net.Socket[] = [];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-open-files-'));
    const env = loopbackManagerEnv(dir, tls);
    manager = await ManagerProcess.start(env, { openFiles: OPEN_FILES });
    api = await adminApi(env, manager.httpUrl, tls);
  }, 60_000);

  afterAll(async () => {
    for (const socket of flood) socket.destroy();
    await api?.close();
    await manager?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('closes connections past its cap and keeps the API and the manager serving', async () => {
    const port = Number(new URL(manager.brokerUrl).port);
    for (let i = 0; i < FLOOD; i++) {
      // A connection closed at once by the broker still connects first; later ones may be refused.
      const socket = await connectRaw(port).catch(() => undefined);
      if (!socket) continue;
      socket.on('error', () => undefined);
      flood.push(socket);
    }
    const stillOpen = () => flood.filter((s) => !s.destroyed && s.readyState === 'open').length;
    // Give the broker a moment to close what is past its cap (it does so as they arrive).
    await waitFor('the flood to settle', () => stillOpen() <= CAP, 5_000, 50).catch(
      () => undefined,
    );

    // The operator still gets in while the flood holds its connections, and sees it.
    const res = await api.get('/api/health');
    expect(res.status).toBe(200);
    const health = (await res.json()) as Health;
    expect(health.brokerRefusals?.byReason['connection-limit']).toBeGreaterThanOrEqual(FLOOD - CAP);
    expect(stillOpen()).toBeLessThanOrEqual(CAP);
    expect(stillOpen()).toBeGreaterThan(CAP - 20);
    expect(manager.running).toBe(true);

    // The flood leaves; a sign comes in, is provisioned over the API and goes live.
    for (const socket of flood.splice(0)) socket.destroy();
    const identities = [{ deviceId: 'kiosk-1', stopId: STOP_CENTRAL }];
    const credentials = await provisionByClaim(api, identities);
    const fleet = claimedFleet({ brokerUrl: manager.brokerUrl, identities, credentials, tls });
    try {
      await fleet.start();
      await waitFor('the sign live', () => fleet.signs[0]?.mode === 'live', 30_000, 50);
    } finally {
      await fleet.stop();
    }
  }, 90_000);
});

describe('the connection cap', () => {
  it('leaves the manager 256 open files or a twentieth of its limit, whichever is more', () => {
    expect(connectionCap(50_000, 20_000)).toBe(19_000);
    expect(connectionCap(50_000, 1_024)).toBe(768);
    expect(connectionCap(50_000, 524_288)).toBe(50_000);
    expect(connectionCap(50_000, undefined)).toBe(50_000);
    const limits = (soft: string) =>
      `Max open files            ${soft}                524288               files     \n`;
    expect(parseOpenFileLimit(limits('20000'))).toBe(20_000);
    expect(parseOpenFileLimit(limits('unlimited'))).toBeUndefined();
    expect(parseOpenFileLimit('')).toBeUndefined();
  });
});
