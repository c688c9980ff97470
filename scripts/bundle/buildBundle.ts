/**
 * Builds a sign release bundle: the app (esbuild), the runtime and native
 * modules (cached per inputs), laid out as a slot and signed.
 *
 * Slot layout, as it sits under /opt/stopsign/slots/<a|b>:
 *   runtime/bin/node            Node.js for the target
 *   app/dist/sign.mjs           the sign firmware
 *   app/dist/update-agent.mjs   the update agent
 *   app/node_modules/           runtime packages, native ones built for runtime/
 *   app/images/                 systemd units and the boot guard of this release
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BundleArch, KeyStatement } from '../../shared';
import type { SigningKey } from '../../shared/bundle/signing';
import { buildApp } from './appBuild';
import { makeBundle, type BuiltBundle } from './makeBundle';
import { stageRuntime } from './runtimeStage';

/**
 * The Node.js release signs run: the 22 LTS line (supported until April 2027; 20
 * reached end of life in April 2026). Not 24 yet: better-sqlite3 12 under Node 24
 * aborts the process (SIGABRT, "RemoveEnvironmentCleanupHook: env != nullptr") when
 * the garbage collector finalizes a statement, which the update fault tests hit
 * within seconds of the sign starting.
 */
export const DEFAULT_NODE_VERSION = '22.23.3';

export interface SlotTreeOptions {
  projectRoot: string;
  cacheDir: string;
  arch: BundleArch;
  nodeVersion?: string;
  version: string;
  nativeModulesDir?: string;
  /** Where the tree is laid out; must not exist yet. */
  treeDir: string;
  log?: (line: string) => void;
}

/** Mirrors a directory with hard links: cheap, and the cache is never written through them. */
export function linkTree(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === '.complete') continue;
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) linkTree(src, dst);
    else fs.linkSync(src, dst);
  }
}

export async function buildSlotTree(options: SlotTreeOptions): Promise<string> {
  const nodeVersion = options.nodeVersion ?? DEFAULT_NODE_VERSION;
  const appDir = path.join(options.treeDir, 'app');
  const { packages } = await buildApp({
    projectRoot: options.projectRoot,
    appDir,
    version: options.version,
    nodeMajor: Number(nodeVersion.split('.')[0]),
  });
  const staged = await stageRuntime({
    projectRoot: options.projectRoot,
    cacheDir: options.cacheDir,
    arch: options.arch,
    nodeVersion,
    packages,
    ...(options.nativeModulesDir ? { nativeModulesDir: options.nativeModulesDir } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  linkTree(path.join(staged.dir, 'runtime'), path.join(options.treeDir, 'runtime'));
  linkTree(path.join(staged.dir, 'app', 'node_modules'), path.join(appDir, 'node_modules'));
  return options.treeDir;
}

export interface BundleBuildOptions extends Omit<SlotTreeOptions, 'treeDir'> {
  minVersion: string;
  hardware: string[];
  releaseNotes: string;
  key: SigningKey;
  trust?: KeyStatement[];
  outPath: string;
  level?: number;
}

export async function buildBundle(options: BundleBuildOptions): Promise<BuiltBundle> {
  const treeDir = `${options.outPath}.tree`;
  fs.rmSync(treeDir, { recursive: true, force: true });
  try {
    await buildSlotTree({ ...options, treeDir });
    return await makeBundle({
      tree: treeDir,
      version: options.version,
      minVersion: options.minVersion,
      hardware: options.hardware,
      arch: options.arch,
      nodeVersion: options.nodeVersion ?? DEFAULT_NODE_VERSION,
      releaseNotes: options.releaseNotes,
      key: options.key,
      trust: options.trust ?? [],
      outPath: options.outPath,
      ...(options.level === undefined ? {} : { level: options.level }),
    });
  } finally {
    fs.rmSync(treeDir, { recursive: true, force: true });
  }
}
