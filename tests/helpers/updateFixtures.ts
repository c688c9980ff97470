/** Small signed bundles and keys for update tests that need no real runtime. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { BundleArch, KeyStatement } from '../../shared';
import { generateSigningKey, type SigningKey } from '../../shared/bundle/signing';
import { DEFAULT_NODE_VERSION } from '../../scripts/bundle/buildBundle';
import { makeBundle, type BuiltBundle } from '../../scripts/bundle/makeBundle';

export const HARDWARE = 'test-board';

export function testKeys(): { release: SigningKey; next: SigningKey; stranger: SigningKey } {
  return {
    release: generateSigningKey('release'),
    next: generateSigningKey('next'),
    stranger: generateSigningKey('stranger'),
  };
}

/** A slot tree of a few files, one of them sizeable so downloads take more than one chunk. */
export function smallTree(dir: string, version: string, bulkBytes = 256 * 1024): string {
  const tree = path.join(dir, `tree-${version}-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(path.join(tree, 'runtime', 'bin'), { recursive: true });
  fs.mkdirSync(path.join(tree, 'app', 'dist'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'runtime', 'bin', 'node'), '#!/bin/sh\nexit 0\n', {
    mode: 0o755,
  });
  fs.writeFileSync(
    path.join(tree, 'app', 'dist', 'sign.mjs'),
    `console.log(${JSON.stringify(version)});\n`,
  );
  fs.writeFileSync(
    path.join(tree, 'app', 'package.json'),
    JSON.stringify({ name: 'stopsign-sign', version, private: true, type: 'module' }),
  );
  // Incompressible, so the bundle is as large as the file.
  fs.writeFileSync(path.join(tree, 'app', 'bulk.bin'), randomBytes(bulkBytes));
  return tree;
}

export interface SmallBundleSpec {
  dir: string;
  version: string;
  key: SigningKey;
  minVersion?: string;
  hardware?: string[];
  arch?: BundleArch;
  trust?: KeyStatement[];
  bulkBytes?: number;
  name?: string;
}

export async function smallBundle(spec: SmallBundleSpec): Promise<BuiltBundle> {
  const tree = smallTree(spec.dir, spec.version, spec.bulkBytes);
  try {
    return await makeBundle({
      tree,
      version: spec.version,
      minVersion: spec.minVersion ?? '0.0.0',
      hardware: spec.hardware ?? [HARDWARE],
      arch: spec.arch ?? (process.arch as BundleArch),
      nodeVersion: DEFAULT_NODE_VERSION,
      releaseNotes: `test release ${spec.version}`,
      key: spec.key,
      trust: spec.trust ?? [],
      outPath: path.join(spec.dir, spec.name ?? `${spec.version}.bundle`),
      level: 1,
    });
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
}

/** Flips one byte at `offset` from the end, inside the payload. */
export function tamper(file: string, out: string, offsetFromEnd = 4096): string {
  const bytes = fs.readFileSync(file);
  const at = bytes.length - offsetFromEnd;
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  fs.writeFileSync(out, bytes);
  return out;
}
