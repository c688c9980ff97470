/**
 * Every sign on the embedded broker holds one of the manager's open files. If
 * signs take them all, the manager can no longer accept an operator on the API,
 * open its databases or start an import: the broker's connection cap is kept
 * below the process's open-file limit, so a fleet too big for the box meets the
 * cap (signs retry) and never starves the rest of the manager.
 */
import fs from 'node:fs';

/** Files kept for the manager itself: databases and their journals, the departures thread, import pipes, the database pool, API clients (operators, signs fetching bundles). */
const MIN_RESERVE = 256;
const RESERVE_SHARE = 0.05;

/** The soft "Max open files" of a /proc/<pid>/limits text, or undefined if unlimited or absent. */
export function parseOpenFileLimit(limitsText: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (!match || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/** This process's open-file limit where the system tells it (Linux), else undefined. */
export function ownOpenFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** The most connections the broker may hold: the configured cap, lowered to leave the manager its reserve. */
export function connectionCap(configured: number, openFileLimit: number | undefined): number {
  if (openFileLimit === undefined) return configured;
  const reserve = Math.max(MIN_RESERVE, Math.ceil(openFileLimit * RESERVE_SHARE));
  return Math.max(1, Math.min(configured, openFileLimit - reserve));
}
