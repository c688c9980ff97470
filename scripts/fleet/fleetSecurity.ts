/**
 * What a fleet on loopback needs now that nothing connects anonymously: one
 * CA and server certificate for the managers' HTTPS and the brokers' TLS, a
 * broker account per manager, an admin's API token, and every simulated
 * sign's credentials, issued in bulk beforehand the way a claim leaves them
 * (a random secret, its SHA-256 in the shared store, and on Mosquitto a
 * dynsec account with exactly the sign's topics).
 */
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createOperator, createToken, openAdminTools } from '../../manager/cli/adminTools';
import { ManagerApi } from '../../manager/cli/managerApi';
import { loadManagerConfig } from '../../manager/config';
import { randomSecret, sha256Hex } from '../../manager/security/secrets';
import type { SharedStore } from '../../manager/store/sharedStore';
import { testTls, type TestTls } from '../../tests/helpers/testTls';
import type { BrokerAccount, ProvisionedSign } from '../lib/dynsecFile';
import type { SimulatedIdentity } from './feedStops';
import { FleetSimulator, type SignTiming } from './fleetSimulator';

export type FleetTls = TestTls;

/** The loopback CA and certificate (one per process, made on first use). */
export function fleetTls(): FleetTls {
  return testTls();
}

/** Password hashing for operators at 2^12: a fleet run logs in a few times, not an attacker. */
const SCRYPT_COST = '12';

/** The variables every manager of a secured loopback fleet gets. */
export function securedManagerEnv(tls: FleetTls): Record<string, string> {
  return {
    STOPSIGN_TLS_CERT_FILE: tls.certFile,
    STOPSIGN_TLS_KEY_FILE: tls.keyFile,
    STOPSIGN_TLS_CA_FILE: tls.caFile,
    STOPSIGN_SCRYPT_COST: SCRYPT_COST,
    // What signs and clients are told to reach: this machine, never a LAN address.
    STOPSIGN_PUBLIC_HOST: '127.0.0.1',
  };
}

/** Manager i's own account on an external broker: its client id is the username. */
export function managerAccount(index: number): BrokerAccount {
  return { username: `stopsign-manager-${index}`, password: randomSecret(24) };
}

/** An external manager's broker variables for `account`. */
export function externalBrokerEnv(
  brokerUrl: string,
  account: BrokerAccount,
  tls: FleetTls,
): Record<string, string> {
  return {
    STOPSIGN_BROKER_MODE: 'external',
    STOPSIGN_BROKER_URL: brokerUrl,
    STOPSIGN_BROKER_USERNAME: account.username,
    STOPSIGN_BROKER_PASSWORD: account.password,
    STOPSIGN_BROKER_CA_FILE: tls.caFile,
  };
}

/**
 * Issues each sign a secret and stores its SHA-256, as a claim does. Returns
 * the credentials (for the simulator) and the signs' dynsec accounts.
 */
export async function issueSignCredentials(
  store: SharedStore,
  identities: readonly SimulatedIdentity[],
): Promise<{ credentials: Record<string, BrokerAccount>; signs: ProvisionedSign[] }> {
  const credentials: Record<string, BrokerAccount> = {};
  const signs: ProvisionedSign[] = [];
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < identities.length; i += 64) {
    await Promise.all(
      identities.slice(i, i + 64).map(async (s) => {
        const password = randomSecret(32);
        await store.signCredentials.issue(s.deviceId, sha256Hex(password), now, null);
        credentials[s.deviceId] = { username: s.deviceId, password };
        signs.push({ username: s.deviceId, password, stopId: s.stopId });
      }),
    );
  }
  return { credentials, signs };
}

/** Writes the simulator's credentials file (0600: they are secrets). */
export function writeCredentialsFile(
  dir: string,
  credentials: Record<string, BrokerAccount>,
): string {
  const file = path.join(dir, 'sign-credentials.json');
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return file;
}

/**
 * An admin and an API token made on the store the manager with `env` uses,
 * through the operator CLI's path; the API trusts only the fleet's CA.
 */
export async function adminApi(
  env: Record<string, string>,
  httpUrl: string,
  tls: FleetTls,
): Promise<ManagerApi> {
  const tools = await openAdminTools(loadManagerConfig(env));
  try {
    if (!(await tools.store.operators.get('fleet-admin'))) {
      await createOperator(tools, { username: 'fleet-admin', role: 'admin' });
    }
    const { token } = await createToken(tools, { username: 'fleet-admin', name: 'fleet runs' });
    return new ManagerApi(httpUrl, { caPem: tls.caPem, token });
  } finally {
    await tools.close();
  }
}

/**
 * Creates each sign through the API and claims it as the sign would: the
 * whole provisioning path, for fleets small enough to take one request each.
 */
export async function provisionByClaim(
  api: ManagerApi,
  identities: readonly SimulatedIdentity[],
): Promise<Record<string, BrokerAccount>> {
  const credentials: Record<string, BrokerAccount> = {};
  for (const s of identities) {
    const created = await api.post('/api/signs', { deviceId: s.deviceId, stopId: s.stopId });
    const body = (await created.json()) as { claim?: { claim: string } | null };
    if (created.status !== 201 || !body.claim) {
      throw new Error(`creating ${s.deviceId}: ${created.status} ${JSON.stringify(body)}`);
    }
    const claim = body.claim.claim;
    const code = new URLSearchParams(claim.slice(claim.indexOf('?') + 1)).get('code') ?? '';
    const claimed = await api.as(undefined).post('/api/claim', { code });
    if (claimed.status !== 200) {
      throw new Error(`claiming ${s.deviceId}: ${claimed.status} ${await claimed.text()}`);
    }
    const { mqtt } = (await claimed.json()) as { mqtt: BrokerAccount };
    credentials[s.deviceId] = { username: mqtt.username, password: mqtt.password };
  }
  return credentials;
}

/**
 * Simulated signs holding the credentials their claims gave and trusting the
 * fleet's CA, quiet, with a status a second and quick reconnects: the small
 * fleets tests watch.
 */
export function claimedFleet(options: {
  brokerUrl: string;
  identities: readonly SimulatedIdentity[];
  credentials: Record<string, BrokerAccount>;
  tls: FleetTls;
  rampPerSecond?: number;
  timing?: Partial<SignTiming>;
}): FleetSimulator {
  const { credentials, tls } = options;
  return new FleetSimulator({
    brokerUrl: options.brokerUrl,
    identities: options.identities,
    credentials: async (deviceId) => {
      const found = credentials[deviceId];
      return found ? { ...found, ca: tls.caPem } : undefined;
    },
    rampPerSecond: options.rampPerSecond ?? 10,
    logger: pino({ level: 'silent' }),
    timing: { statusIntervalMs: 1000, reconnectMinMs: 200, ...options.timing },
  });
}
