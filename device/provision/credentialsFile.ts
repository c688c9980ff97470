/**
 * The sign's own broker credentials, as the manager handed them over once.
 * Written whole or not at all (temp file, fsync, rename, fsync of the
 * folder), readable by the sign's service user only: a power cut during
 * provisioning leaves the old file or the new one, never half of either.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { claimResponse } from '../../shared';

export const CREDENTIALS_FILE = 'credentials.json';

export const storedCredentials = claimResponse.extend({
  /** SHA-256 of the claim code these came from, so a new claim is told apart from the old one. */
  claimHash: z.string().regex(/^[0-9a-f]{64}$/),
  managerUrl: z.string().url(),
  claimedAt: z.number().int().nonnegative(),
});
export type StoredCredentials = z.infer<typeof storedCredentials>;

export function credentialsPath(dataDir: string): string {
  return path.join(dataDir, CREDENTIALS_FILE);
}

/** Undefined when the sign was never provisioned; throws when the file is there but unreadable. */
export function readCredentials(dataDir: string): StoredCredentials | undefined {
  const file = credentialsPath(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = storedCredentials.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new Error(`${file} is not a credentials file: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export function writeCredentials(dataDir: string, credentials: StoredCredentials): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = credentialsPath(dataDir);
  const temp = `${file}.tmp`;
  const fd = fs.openSync(temp, 'w', 0o600);
  try {
    // The mode of open() only applies to a new file; a leftover temp file keeps its own.
    fs.fchmodSync(fd, 0o600);
    fs.writeFileSync(fd, JSON.stringify(credentials, null, 2));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, file);
  const dir = fs.openSync(dataDir, 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
