/**
 * What the running sign says about its own health, in a small file the update
 * agent reads to judge a slot on trial: the process is up, the broker is
 * connected, the SQLite cache opened, and the panel acknowledged a frame.
 * A file keeps the two programs apart: neither needs the other running.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../update/atomicFile';

export const signHealth = z.object({
  pid: z.number().int().positive(),
  version: z.string().max(64),
  startedAtMs: z.number().int().nonnegative(),
  brokerConnected: z.boolean(),
  cacheOpen: z.boolean(),
  frameAcked: z.boolean(),
  writtenAtMs: z.number().int().nonnegative(),
});
export type SignHealth = z.infer<typeof signHealth>;

export function writeHealth(file: string, health: SignHealth): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(health));
}

export function readHealth(file: string): SignHealth | null {
  try {
    const parsed = signHealth.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The checks a slot on trial must pass, each named so a rollback can say which failed. */
export function healthProblems(
  health: SignHealth | null,
  expect: { version: string; startedAfterMs: number },
): string[] {
  if (!health) return ['the sign has not reported its health'];
  const problems: string[] = [];
  if (health.version !== expect.version) {
    problems.push(`the sign runs ${health.version}, not ${expect.version}`);
  }
  if (health.startedAtMs < expect.startedAfterMs) problems.push('the sign has not restarted');
  if (!processAlive(health.pid)) problems.push('the sign process is not running');
  if (!health.cacheOpen) problems.push('its SQLite cache did not open');
  if (!health.brokerConnected) problems.push('it is not connected to the broker');
  if (!health.frameAcked) problems.push('the panel has not acknowledged a frame');
  return problems;
}
