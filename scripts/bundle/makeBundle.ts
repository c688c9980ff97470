/** Turns a staged slot tree into a signed bundle file. */
import fs from 'node:fs';
import path from 'node:path';
import {
  bundleManifest,
  type BundleArch,
  type BundleManifest,
  type KeyStatement,
} from '../../shared';
import { writeBundle } from '../../shared/bundle/bundleArchive';
import { signBytes, type SigningKey } from '../../shared/bundle/signing';
import { sha256OfFile } from '../../device/update/fileHash';
import { packPayload } from './payload';

export interface BundleSpec {
  /** Slot tree: runtime/ and app/ as they will sit on the sign. */
  tree: string;
  version: string;
  minVersion: string;
  hardware: string[];
  arch: BundleArch;
  nodeVersion: string;
  releaseNotes: string;
  key: SigningKey;
  /** Key statements every sign must have applied before it can check this signature. */
  trust?: KeyStatement[];
  outPath: string;
  /** gzip level of the payload; 1 packs fastest, 9 smallest. */
  level?: number;
  createdAt?: number;
}

export interface BuiltBundle {
  path: string;
  manifest: BundleManifest;
  sha256: string;
  size: number;
}

export async function makeBundle(spec: BundleSpec): Promise<BuiltBundle> {
  fs.mkdirSync(path.dirname(spec.outPath), { recursive: true });
  const payloadPath = `${spec.outPath}.payload.tmp`;
  let manifest: BundleManifest;
  try {
    const payload = await packPayload(spec.tree, payloadPath, { level: spec.level ?? 6 });
    manifest = bundleManifest.parse({
      format: 1,
      version: spec.version,
      minVersion: spec.minVersion,
      hardware: spec.hardware,
      arch: spec.arch,
      runtime: { node: spec.nodeVersion },
      createdAt: spec.createdAt ?? Math.floor(Date.now() / 1000),
      releaseNotes: spec.releaseNotes,
      payload: { sha256: payload.sha256, size: payload.size },
      totalSize: payload.totalSize,
      files: payload.files,
    });
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    await writeBundle(spec.outPath, {
      manifestBytes,
      signature: signBytes(manifestBytes, spec.key),
      trust: spec.trust ?? [],
      payloadPath,
    });
  } finally {
    fs.rmSync(payloadPath, { force: true });
  }
  return {
    path: spec.outPath,
    manifest,
    sha256: await sha256OfFile(spec.outPath),
    size: fs.statSync(spec.outPath).size,
  };
}
