/**
 * The runtime half of a bundle for this machine's architecture: Node.js from
 * the npm registry with the sign's native modules compiled for it. Building it
 * is installation (scripts/setup.sh runs scripts/build-runtime.ts once); the
 * update tests and benchmarks then pack bundles from the cache in seconds.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BundleArch } from '../../shared';
import { buildApp } from './appBuild';
import { DEFAULT_NODE_VERSION } from './buildBundle';
import { runtimeCacheDir, stageRuntime, type StagedRuntime } from './runtimeStage';

export interface HostRuntime {
  staged: StagedRuntime;
  /** The sign's and agent's runtime packages, as buildApp found them. */
  packages: Record<string, string>;
  nodeVersion: string;
  arch: BundleArch;
  /** False when the cache already held it. */
  built: boolean;
}

export function hostArch(): BundleArch {
  const arch = os.arch();
  if (arch !== 'x64' && arch !== 'arm64') {
    throw new Error(`bundles are built for x64 or arm64, not for this ${arch} machine`);
  }
  return arch;
}

/**
 * Finds the cached runtime for the current sources, or builds it. `onBuild` is
 * told before a build starts, so a caller can say why it is about to wait minutes.
 */
export async function hostRuntime(options: {
  projectRoot: string;
  cacheDir: string;
  nodeVersion?: string;
  /** Where to leave the built app (dist/, images/, package.json); a temp dir that is removed otherwise. */
  appDir?: string;
  onBuild?: (cacheDir: string) => void;
  log?: (line: string) => void;
}): Promise<HostRuntime> {
  const nodeVersion = options.nodeVersion ?? DEFAULT_NODE_VERSION;
  const arch = hostArch();
  // The package list comes from what the sign's and agent's code imports.
  const scratch = options.appDir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-app-'));
  let packages: Record<string, string>;
  try {
    ({ packages } = await buildApp({
      projectRoot: options.projectRoot,
      appDir: options.appDir ?? path.join(scratch ?? '', 'app'),
      version: '0.0.0',
      nodeMajor: Number(nodeVersion.split('.')[0]),
    }));
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
  const stage = {
    projectRoot: options.projectRoot,
    cacheDir: options.cacheDir,
    arch,
    nodeVersion,
    packages,
    ...(options.log ? { log: options.log } : {}),
  };
  const { dir } = runtimeCacheDir(stage);
  const built = !fs.existsSync(path.join(dir, '.complete'));
  if (built) options.onBuild?.(dir);
  const staged = await stageRuntime(stage);
  return { staged, packages, nodeVersion, arch, built };
}
