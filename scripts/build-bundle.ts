/**
 * Builds a signed sign release bundle.
 *
 *   npx tsx scripts/build-bundle.ts --version 1.4.0 --min-version 1.0.0 \
 *     --hardware led-192x64-v2 --arch x64 --key release.pem --out var/bundles/1.4.0-x64.bundle
 *
 * arm64 needs --native-modules <dir> with <package>/build/Release/*.node
 * built on an arm64 board against the same Node.js release.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleArch, releaseVersion, trustChain } from '../shared';
import { loadSigningKey } from '../shared/bundle/signing';
import { buildBundle, DEFAULT_NODE_VERSION } from './bundle/buildBundle';
import { NativeModulesMissing } from './bundle/runtimeStage';

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    'min-version': { type: 'string', default: '0.0.0' },
    hardware: { type: 'string' },
    arch: { type: 'string', default: 'x64' },
    node: { type: 'string', default: DEFAULT_NODE_VERSION },
    notes: { type: 'string', default: '' },
    key: { type: 'string' },
    trust: { type: 'string' },
    'native-modules': { type: 'string' },
    out: { type: 'string' },
    'cache-dir': { type: 'string', default: 'var/bundle-cache' },
  },
});

const problems: string[] = [];
const version = releaseVersion.safeParse(values.version);
if (!version.success) problems.push('--version: expected MAJOR.MINOR.PATCH');
const minVersion = releaseVersion.safeParse(values['min-version']);
if (!minVersion.success) problems.push('--min-version: expected MAJOR.MINOR.PATCH');
const arch = bundleArch.safeParse(values.arch);
if (!arch.success) problems.push('--arch: expected x64 or arm64');
if (!values.hardware) problems.push('--hardware: required (comma-separated board names)');
if (!values.key) problems.push('--key: required (Ed25519 private key, PEM)');
if (!values.out) problems.push('--out: required');
if (problems.length > 0 || !version.success || !minVersion.success || !arch.success) {
  console.error(`cannot build a bundle:\n  - ${problems.join('\n  - ')}`);
  process.exit(2);
}

const root = path.resolve(import.meta.dirname, '..');
try {
  const started = performance.now();
  const built = await buildBundle({
    projectRoot: root,
    cacheDir: path.resolve(values['cache-dir']),
    arch: arch.data,
    nodeVersion: values.node,
    version: version.data,
    minVersion: minVersion.data,
    hardware: (values.hardware ?? '').split(',').map((h) => h.trim()),
    releaseNotes: values.notes,
    key: loadSigningKey(fs.readFileSync(values.key ?? '', 'utf8')),
    trust: values.trust ? trustChain.parse(JSON.parse(fs.readFileSync(values.trust, 'utf8'))) : [],
    outPath: path.resolve(values.out ?? ''),
    ...(values['native-modules']
      ? { nativeModulesDir: path.resolve(values['native-modules']) }
      : {}),
    log: (line) => console.log(line),
  });
  console.log(
    `${built.path}: ${built.manifest.version} for ${built.manifest.arch}, ` +
      `${(built.size / 1048576).toFixed(1)} MiB (${(built.manifest.totalSize / 1048576).toFixed(1)} MiB unpacked, ` +
      `${built.manifest.files.length} files), sha256 ${built.sha256}, ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
} catch (err) {
  if (err instanceof NativeModulesMissing) {
    console.error(`refusing to build a bundle that could not start: ${err.message}`);
    process.exit(3);
  }
  throw err;
}
