/**
 * What security costs a sign when it connects: MQTT over TLS with its own
 * credentials (checked against the shared store, its client id enforced) on
 * the manager's embedded broker, beside a bare aedes on plain TCP that lets
 * anyone in, measured in the same run; plus what a claim costs beside a plain
 * HTTPS request to the same server, and the operator password hash.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import pino from 'pino';
import { ManagerApi } from '../manager/cli/managerApi';
import { createOperator, createToken, openAdminTools } from '../manager/cli/adminTools';
import { loadManagerConfig } from '../manager/config';
import { Manager } from '../manager/manager';
import { hashPassword } from '../manager/security/passwords';
import { sha256Hex } from '../manager/security/secrets';
import { claimResponse, parseClaim } from '../shared';
import { startBroker } from '../tests/helpers/deviceBroker';
import { STOP_CENTRAL, tinyGtfsZip } from '../tests/helpers/gtfsFixture';
import { printFigures } from './measure';

const CONNECTS = 50;

/** Mean ms from connect() to CONNACK, connections made one after another and closed. */
async function meanConnectMs(url: string, options: IClientOptions): Promise<number> {
  const once = async (): Promise<number> => {
    const start = performance.now();
    const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...options });
    const ms = performance.now() - start;
    await client.endAsync(true);
    return ms;
  };
  for (let i = 0; i < 5; i++) await once();
  let total = 0;
  for (let i = 0; i < CONNECTS; i++) total += await once();
  return total / CONNECTS;
}

async function meanMs(times: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const start = performance.now();
  for (let i = 0; i < times; i++) await fn();
  return (performance.now() - start) / times;
}

export async function benchConnect(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-connect-'));
  const bare = await startBroker();
  const gtfsPath = path.join(dir, 'tiny.zip');
  fs.writeFileSync(gtfsPath, tinyGtfsZip());
  const config = loadManagerConfig(
    {},
    {
      httpPort: 0,
      brokerPort: 0,
      dataDir: path.join(dir, 'manager'),
      gtfsPath,
      publishIntervalSeconds: 3600,
      scryptCost: 12,
    },
  );
  const manager = new Manager(config, pino({ level: 'silent' }));
  try {
    const endpoints = await manager.start();
    const tools = await openAdminTools(config);
    await createOperator(tools, { username: 'bench', role: 'admin' });
    const { token } = await createToken(tools, { username: 'bench', name: 'bench' });
    await tools.close();
    const api = new ManagerApi(endpoints.httpUrl, { caPem: endpoints.caPem, token });
    const anonymous = api.as(undefined);

    const claimOnce = async (deviceId: string) => {
      const created = (await (
        await api.post('/api/signs', { deviceId, stopId: STOP_CENTRAL })
      ).json()) as {
        claim: { claim: string };
      };
      const code = parseClaim(created.claim.claim).code;
      const start = performance.now();
      const res = await anonymous.post('/api/claim', { code });
      const ms = performance.now() - start;
      return { ms, credentials: claimResponse.parse(await res.json()) };
    };
    const { credentials } = await claimOnce('bench-sign');
    let claimTotal = 0;
    for (let i = 0; i < 20; i++) claimTotal += (await claimOnce(`bench-claim-${i}`)).ms;
    const caGetMs = await meanMs(20, async () => (await anonymous.get('/api/ca.pem')).text());

    const plainMs = await meanConnectMs(bare.url, { clientId: 'bench-plain' });
    const securedMs = await meanConnectMs(endpoints.brokerUrl, {
      clientId: credentials.mqtt.username,
      username: credentials.mqtt.username,
      password: credentials.mqtt.password,
      ca: credentials.mqtt.caPem,
    });
    const scryptMs = await meanMs(3, () => hashPassword('a passphrase of some length', 17));
    const sha256Ms = await meanMs(1000, async () => sha256Hex('x'.repeat(43)));
    printFigures('Security: connecting, claiming, hashing', [
      {
        name: `sign connects: MQTT over TLS + own credentials (mean of ${CONNECTS})`,
        value: securedMs,
        unit: 'ms',
        baseline: { name: 'plain TCP, anonymous, bare aedes', value: plainMs },
      },
      {
        name: 'sign claims its credentials (HTTPS POST /api/claim, mean of 20)',
        value: claimTotal / 20,
        unit: 'ms',
        baseline: { name: 'HTTPS GET /api/ca.pem', value: caGetMs },
      },
      {
        name: 'operator password hash (scrypt N=2^17, r=8, p=1)',
        value: scryptMs,
        unit: 'ms',
        baseline: { name: 'sign secret check (SHA-256)', value: sha256Ms },
      },
    ]);
    await api.close();
  } finally {
    await manager.stop();
    await bare.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Run on its own: tsx bench/connectBench.ts
if (import.meta.url === `file://${process.argv[1]}`) await benchConnect();
