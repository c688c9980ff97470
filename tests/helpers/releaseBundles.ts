/**
 * Real release bundles for the fault-injection tests: the sign and the update
 * agent with the Node.js runtime and native modules they ship with. The
 * runtime half is cached under var/bundle-cache (keyed by its inputs, shared
 * between test workers by a lock); the bundles are packed once per test file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildSlotTree, DEFAULT_NODE_VERSION } from '../../scripts/bundle/buildBundle';
import { makeBundle, type BuiltBundle } from '../../scripts/bundle/makeBundle';
import { generateSigningKey, type SigningKey } from '../../shared/bundle/signing';
import type { BundleArch } from '../../shared';
import { HARDWARE } from './updateFixtures';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
export const BUNDLE_CACHE = path.join(PROJECT_ROOT, 'var', 'bundle-cache');

export interface ReleaseSet {
  key: SigningKey;
  /** Factory release every test disk starts from. */
  v1: BuiltBundle;
  /** A good update. */
  v2: BuiltBundle;
  /** An update whose sign throws at start. */
  crashing: BuiltBundle;
  /** An update whose sign runs but never reaches the broker. */
  unconnected: BuiltBundle;
}

async function release(
  dir: string,
  key: SigningKey,
  version: string,
  name: string,
  change?: (appDir: string) => void,
): Promise<BuiltBundle> {
  const treeDir = path.join(dir, `${name}.tree`);
  await buildSlotTree({
    projectRoot: PROJECT_ROOT,
    cacheDir: BUNDLE_CACHE,
    arch: process.arch as BundleArch,
    version,
    treeDir,
  });
  change?.(path.join(treeDir, 'app'));
  try {
    return await makeBundle({
      tree: treeDir,
      version,
      minVersion: '1.0.0',
      hardware: [HARDWARE],
      arch: process.arch as BundleArch,
      nodeVersion: DEFAULT_NODE_VERSION,
      releaseNotes: `${name} ${version}`,
      key,
      outPath: path.join(dir, `${name}.bundle`),
      level: 1,
    });
  } finally {
    fs.rmSync(treeDir, { recursive: true, force: true });
  }
}

export async function buildReleaseSet(dir: string): Promise<ReleaseSet> {
  const key = generateSigningKey('release');
  const v1 = await release(dir, key, '1.0.0', 'v1');
  const v2 = await release(dir, key, '1.1.0', 'v2');
  const crashing = await release(dir, key, '1.1.0', 'crashing', (app) => {
    fs.writeFileSync(path.join(app, 'dist', 'sign.mjs'), "throw new Error('broken release');\n");
  });
  const unconnected = await release(dir, key, '1.1.0', 'unconnected', (app) => {
    // The real sign, pointed at a broker address where nothing listens.
    fs.renameSync(path.join(app, 'dist', 'sign.mjs'), path.join(app, 'dist', 'sign-real.mjs'));
    fs.writeFileSync(
      path.join(app, 'dist', 'sign.mjs'),
      "process.env.STOPSIGN_BROKER_URL = 'mqtt://127.0.0.1:9';\nawait import('./sign-real.mjs');\n",
    );
  });
  return { key, v1, v2, crashing, unconnected };
}
