/**
 * How a simulated sign proves who it is to the broker. A deployment whose
 * broker checks credentials provisions each sign and hands the simulator a
 * source of them; without one, signs connect anonymously.
 */
import fs from 'node:fs';

export interface SignCredentials {
  username: string;
  password: string;
  /** The CA a TLS broker's certificate must chain to (mqtt.js's option name). */
  ca?: string;
}

/** Looked up once per sign before it first connects. */
export type CredentialSource = (deviceId: string) => Promise<SignCredentials | undefined>;

export const anonymous: CredentialSource = async () => undefined;

/**
 * A JSON file of `{ "<deviceId>": { "username": …, "password": … } }`, e.g.
 * written by bulk provisioning; `caPem`: the CA every sign pins.
 */
export function credentialsFromFile(file: string, caPem?: string): CredentialSource {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof parsed !== 'object' || parsed === null) {
    throw new Error(`${file}: expected an object of deviceId → {username, password}`);
  }
  const table = new Map<string, SignCredentials>();
  for (const [deviceId, value] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = value as Partial<SignCredentials> | null;
    if (typeof entry?.username !== 'string' || typeof entry.password !== 'string') {
      throw new Error(`${file}: ${deviceId} needs a string username and password`);
    }
    table.set(deviceId, {
      username: entry.username,
      password: entry.password,
      ...(caPem ? { ca: caPem } : {}),
    });
  }
  return async (deviceId) => table.get(deviceId);
}
