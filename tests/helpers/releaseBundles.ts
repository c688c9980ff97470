/**
 * Real release bundles for the fault-injection tests: the sign and the update
 * agent with the Node.js runtime and native modules they ship with. The
 * runtime comes from var/bundle-cache, which scripts/setup.sh fills once (it
 * is built here, with a note saying so, when setup was skipped). The app is
 * built once and every release is laid out from it with hard links, then the
 * four are packed side by side.
 */
import fs from 'node:fs';
import path from 'node:path';
import { linkTree } from '../../scripts/bundle/buildBundle';
import { hostRuntime, type HostRuntime } from '../../scripts/bundle/hostRuntime';
import { makeBundle, type BuiltBundle } from '../../scripts/bundle/makeBundle';
import { generateSigningKey, type SigningKey } from '../../shared/bundle/signing';
import { HARDWARE } from './updateFixtures';

export const PROJECT_ROOT = path.resolve(import.meta.dirname, '../..');
export const BUNDLE_CACHE = path.join(PROJECT_ROOT, 'var', 'bundle-cache');

export interface ReleaseSet {
  key: SigningKey;
  runtime: HostRuntime;
  /** Factory release every test disk starts from. */
  v1: BuiltBundle;
  /** A good update. */
  v2: BuiltBundle;
  /** An update whose sign throws at start. */
  crashing: BuiltBundle;
  /** An update whose sign runs but never reaches the broker. */
  unconnected: BuiltBundle;
}

/** The sign runtime for this machine, built now (minutes) only when setup did not build it. */
export function releaseRuntime(appDir?: string): Promise<HostRuntime> {
  return hostRuntime({
    projectRoot: PROJECT_ROOT,
    cacheDir: BUNDLE_CACHE,
    ...(appDir ? { appDir } : {}),
    onBuild: (dir) =>
      console.warn(
        `${path.relative(PROJECT_ROOT, dir)} is missing: building the sign runtime now ` +
          '(Node.js from the npm registry, native modules compiled for it; about 6 min of CPU). ' +
          '`bash scripts/setup.sh` builds it once for every later run.',
      ),
  });
}

/** Replaces a file laid out as a hard link without writing through the link into the cache. */
function replaceFile(file: string, text: string): void {
  fs.rmSync(file);
  fs.writeFileSync(file, text);
}

interface Release {
  name: string;
  version: string;
  /** The app's own files only: for a release whose sign dies before it imports a package. */
  withoutModules?: boolean;
  change?: (appDir: string) => void;
}

export async function buildReleaseSet(dir: string): Promise<ReleaseSet> {
  const key = generateSigningKey('release');
  const baseApp = path.join(dir, 'base', 'app');
  const runtime = await releaseRuntime(baseApp);
  const basePackage = JSON.parse(
    fs.readFileSync(path.join(baseApp, 'package.json'), 'utf8'),
  ) as Record<string, unknown>;

  const pack = async (release: Release): Promise<BuiltBundle> => {
    const tree = path.join(dir, `${release.name}.tree`);
    const app = path.join(tree, 'app');
    linkTree(baseApp, app);
    replaceFile(
      path.join(app, 'package.json'),
      `${JSON.stringify({ ...basePackage, version: release.version }, null, 2)}\n`,
    );
    linkTree(path.join(runtime.staged.dir, 'runtime'), path.join(tree, 'runtime'));
    if (!release.withoutModules) {
      linkTree(
        path.join(runtime.staged.dir, 'app', 'node_modules'),
        path.join(app, 'node_modules'),
      );
    }
    release.change?.(app);
    try {
      return await makeBundle({
        tree,
        version: release.version,
        minVersion: '1.0.0',
        hardware: [HARDWARE],
        arch: runtime.arch,
        nodeVersion: runtime.nodeVersion,
        releaseNotes: `${release.name} ${release.version}`,
        key,
        outPath: path.join(dir, `${release.name}.bundle`),
        level: 1,
      });
    } finally {
      fs.rmSync(tree, { recursive: true, force: true });
    }
  };

  const [v1, v2, crashing, unconnected] = await Promise.all([
    pack({ name: 'v1', version: '1.0.0' }),
    pack({ name: 'v2', version: '1.1.0' }),
    pack({
      name: 'crashing',
      version: '1.1.0',
      // It throws before importing anything, so the packages would be dead weight.
      withoutModules: true,
      change: (app) =>
        replaceFile(path.join(app, 'dist', 'sign.mjs'), "throw new Error('broken release');\n"),
    }),
    pack({
      name: 'unconnected',
      version: '1.1.0',
      change: (app) => {
        // The real sign, pointed at a broker address where nothing listens.
        fs.renameSync(path.join(app, 'dist', 'sign.mjs'), path.join(app, 'dist', 'sign-real.mjs'));
        fs.writeFileSync(
          path.join(app, 'dist', 'sign.mjs'),
          "process.env.STOPSIGN_BROKER_URL = 'mqtt://127.0.0.1:9';\nawait import('./sign-real.mjs');\n",
        );
      },
    }),
  ]);
  fs.rmSync(path.join(dir, 'base'), { recursive: true, force: true });
  return { key, runtime, v1, v2, crashing, unconnected };
}
