/**
 * The expensive half of a slot, cached by its inputs: the Node.js runtime for
 * the target architecture (from the npm registry's node-linux-<arch> package)
 * and the production node_modules with native modules built for that runtime.
 *
 * x64 native modules are compiled here with node-gyp against the headers the
 * runtime package carries (include/node). arm64 ones cannot be: they come from
 * a build on the target (or a build host) and are checked, never guessed.
 */
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BundleArch } from '../../shared';
import { elfMachineOf, ELF_MACHINES } from './elf';
import { withDirLock } from './dirLock';

export class NativeModulesMissing extends Error {}

export interface RuntimeStageOptions {
  projectRoot: string;
  cacheDir: string;
  arch: BundleArch;
  nodeVersion: string;
  /** Runtime packages (name → range), from buildApp. */
  packages: Record<string, string>;
  /**
   * Native modules built on the target: a node_modules-shaped folder with
   * <package>/build/Release/*.node. Required for arm64.
   */
  nativeModulesDir?: string;
  log?: (line: string) => void;
}

export interface StagedRuntime {
  /** Holds runtime/ (bin/node, LICENSE) and app/node_modules. */
  dir: string;
  cacheKey: string;
  nativeModules: string[];
}

/** Bump when the staging steps change, so caches built the old way are not reused. */
const STAGE_FORMAT = 3;

function nodeGypPath(): string {
  const npmCli = fs.realpathSync(execFileSync('which', ['npm'], { encoding: 'utf8' }).trim());
  const gyp = path.join(
    path.dirname(npmCli),
    '..',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  if (!fs.existsSync(gyp)) throw new Error(`node-gyp not found beside npm (looked at ${gyp})`);
  return gyp;
}

/** Runs a command without blocking the event loop (builds take minutes); rejects with its output's tail. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env } });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${tail}`));
    });
  });
}

interface LockEntry {
  version?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/**
 * The lock file's entries for the given packages and everything they pull in,
 * resolved the way Node does (nearest node_modules first). The cache key uses
 * these only, so a new manager-only dependency does not rebuild the sign's runtime.
 */
export function lockClosure(lockText: string, roots: string[]): [string, string, string][] {
  const lock = JSON.parse(lockText) as { packages?: Record<string, LockEntry> };
  const packages = lock.packages ?? {};
  const seen = new Map<string, LockEntry>();
  const resolve = (from: string, name: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!dir) return undefined;
      const cut = dir.lastIndexOf('/node_modules/');
      dir = cut < 0 ? '' : dir.slice(0, cut);
    }
  };
  const visit = (key: string | undefined): void => {
    if (!key || seen.has(key)) return;
    const entry = packages[key] as LockEntry;
    seen.set(key, entry);
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      visit(resolve(key, dep));
    }
  };
  for (const name of roots) visit(resolve('', name));
  return [...seen.entries()]
    .map(([key, e]): [string, string, string] => [key, e.version ?? '', e.integrity ?? ''])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

function hashOf(parts: unknown[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

function dirDigest(dir: string | undefined): string {
  if (!dir || !fs.existsSync(dir)) return 'none';
  const hash = crypto.createHash('sha256');
  const walk = (d: string): void => {
    for (const e of fs
      .readdirSync(d, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) hash.update(p.slice(dir.length)).update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** Fetches node-linux-<arch>@<version> through npm and unpacks it; cached. */
async function fetchRuntimePackage(
  cacheDir: string,
  arch: BundleArch,
  version: string,
): Promise<string> {
  const dir = path.join(cacheDir, `node-linux-${arch}-${version}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const tmp = fs.mkdtempSync(path.join(cacheDir, 'node-pkg-'));
  try {
    await run(
      'npm',
      ['pack', `node-linux-${arch}@${version}`, '--pack-destination', tmp, '--silent'],
      tmp,
    );
    const tgz = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack node-linux-${arch}@${version} gave no tarball`);
    const unpacked = path.join(tmp, 'unpacked');
    fs.mkdirSync(unpacked);
    await run('tar', ['xzf', path.join(tmp, tgz), '-C', unpacked, '--strip-components=1'], tmp);
    for (const needed of ['bin/node', 'include/node/node_version.h', 'include/node/common.gypi']) {
      if (!fs.existsSync(path.join(unpacked, needed))) {
        throw new Error(`node-linux-${arch}@${version} lacks ${needed}; cannot build for it`);
      }
    }
    fs.writeFileSync(path.join(unpacked, '.complete'), '');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(unpacked, dir);
    return dir;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Packages in node_modules that compile a native addon. */
function nativePackages(nodeModules: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const names = entry.startsWith('@')
      ? fs.readdirSync(path.join(nodeModules, entry)).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of names) {
      if (fs.existsSync(path.join(nodeModules, name, 'binding.gyp'))) found.push(name);
    }
  }
  return found.sort();
}

function nodeFilesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.node')) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Keeps only what a native package loads at run time: its JS and build/Release/*.node. */
function trimNativePackage(pkgDir: string): void {
  for (const dir of ['deps', 'src', 'prebuilds']) {
    fs.rmSync(path.join(pkgDir, dir), { recursive: true, force: true });
  }
  const build = path.join(pkgDir, 'build');
  if (!fs.existsSync(build)) return;
  const keep = nodeFilesUnder(path.join(build, 'Release')).filter(
    (f) => path.dirname(f) === path.join(build, 'Release'),
  );
  const saved = keep.map((f) => ({ name: path.basename(f), bytes: fs.readFileSync(f) }));
  fs.rmSync(build, { recursive: true, force: true });
  fs.mkdirSync(path.join(build, 'Release'), { recursive: true });
  for (const { name, bytes } of saved) fs.writeFileSync(path.join(build, 'Release', name), bytes);
}

/** Where the staged runtime for these inputs is cached, and its key. */
export function runtimeCacheDir(options: RuntimeStageOptions): { dir: string; cacheKey: string } {
  const lock = fs.readFileSync(path.join(options.projectRoot, 'package-lock.json'), 'utf8');
  const cacheKey = hashOf([
    STAGE_FORMAT,
    options.arch,
    options.nodeVersion,
    options.packages,
    lockClosure(lock, Object.keys(options.packages)),
    dirDigest(options.nativeModulesDir),
  ]);
  const dir = path.join(
    options.cacheDir,
    `runtime-${options.arch}-${options.nodeVersion}-${cacheKey}`,
  );
  return { dir, cacheKey };
}

export async function stageRuntime(options: RuntimeStageOptions): Promise<StagedRuntime> {
  const { projectRoot, cacheDir, arch, nodeVersion, log = () => undefined } = options;
  fs.mkdirSync(cacheDir, { recursive: true });
  const lock = fs.readFileSync(path.join(projectRoot, 'package-lock.json'), 'utf8');
  const { dir, cacheKey } = runtimeCacheDir(options);
  return withDirLock(`${dir}.lock`, async () => {
    const done = path.join(dir, '.complete');
    if (fs.existsSync(done)) {
      const nativeModules = JSON.parse(fs.readFileSync(done, 'utf8')) as string[];
      return { dir, cacheKey, nativeModules };
    }
    log(`fetching node-linux-${arch}@${nodeVersion} from the npm registry`);
    const nodePkg = await fetchRuntimePackage(cacheDir, arch, nodeVersion);
    // Refuse missing or foreign native modules before a minute of npm install, not after.
    if (arch !== os.arch()) {
      const closure = lockClosure(lock, Object.keys(options.packages)).map(([key]) => key);
      checkSupplied(
        nativePackagesOf(projectRoot, closure),
        options.nativeModulesDir,
        arch,
        nodeVersion,
      );
    }
    const work = fs.mkdtempSync(path.join(cacheDir, 'stage-'));
    try {
      fs.mkdirSync(path.join(work, 'runtime', 'bin'), { recursive: true });
      fs.copyFileSync(path.join(nodePkg, 'bin', 'node'), path.join(work, 'runtime', 'bin', 'node'));
      fs.chmodSync(path.join(work, 'runtime', 'bin', 'node'), 0o755);
      fs.copyFileSync(path.join(nodePkg, 'LICENSE'), path.join(work, 'runtime', 'LICENSE'));

      const app = path.join(work, 'app');
      fs.mkdirSync(app);
      fs.writeFileSync(
        path.join(app, 'package.json'),
        JSON.stringify({ name: 'stopsign', private: true, dependencies: options.packages }),
      );
      // The project's lock keeps every version as tested; npm drops what the sign does not use.
      fs.writeFileSync(path.join(app, 'package-lock.json'), lock);
      log(`installing ${Object.keys(options.packages).length} runtime packages`);
      await run(
        'npm',
        ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'],
        app,
        { npm_config_cpu: arch, npm_config_os: 'linux' },
      );
      const nodeModules = path.join(app, 'node_modules');
      const natives = nativePackages(nodeModules);
      if (arch === os.arch()) {
        const gyp = nodeGypPath();
        // Side by side: one module's single huge source file (SQLite's) need not hold up the others.
        await Promise.all(
          natives.map(async (name) => {
            log(`building ${name} for Node.js ${nodeVersion} (${arch})`);
            // npm exports its own nodedir (often the system Node's) to children, and
            // node-gyp lets that win over the command line: set both.
            await run(
              process.execPath,
              [
                gyp,
                'rebuild',
                '--release',
                `--nodedir=${nodePkg}`,
                `--arch=${arch}`,
                '-j',
                String(os.availableParallelism()),
              ],
              path.join(nodeModules, name),
              { npm_config_nodedir: nodePkg, npm_config_target: nodeVersion },
            );
          }),
        );
      } else {
        checkSupplied(natives, options.nativeModulesDir, arch, nodeVersion);
        const supplied = options.nativeModulesDir;
        for (const name of natives) {
          const from = path.join(supplied as string, name, 'build', 'Release');
          const to = path.join(nodeModules, name, 'build', 'Release');
          fs.rmSync(path.join(nodeModules, name, 'build'), { recursive: true, force: true });
          fs.mkdirSync(to, { recursive: true });
          for (const file of nodeFilesUnder(from)) {
            fs.copyFileSync(file, path.join(to, path.basename(file)));
          }
        }
      }
      for (const name of natives) trimNativePackage(path.join(nodeModules, name));
      fs.rmSync(path.join(nodeModules, '.bin'), { recursive: true, force: true });
      fs.rmSync(path.join(app, 'package.json'));
      fs.rmSync(path.join(app, 'package-lock.json'));
      checkNativeArch(nodeModules, arch);
      if (arch === os.arch()) await smokeTest(work, natives);
      fs.writeFileSync(path.join(work, '.complete'), JSON.stringify(natives));
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(work, dir);
      return { dir, cacheKey, nativeModules: natives };
    } catch (err) {
      fs.rmSync(work, { recursive: true, force: true });
      throw err;
    }
  });
}

/** Packages of the lock closure (keys like node_modules/x) that compile an addon, as installed here. */
function nativePackagesOf(projectRoot: string, closure: string[]): string[] {
  return closure
    .filter((key) => fs.existsSync(path.join(projectRoot, key, 'binding.gyp')))
    .map((key) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .sort();
}

/** Native modules for another architecture must be supplied, each as a binary for that target. */
function checkSupplied(
  natives: string[],
  supplied: string | undefined,
  arch: BundleArch,
  nodeVersion: string,
): void {
  const missing = natives.filter(
    (name) =>
      !supplied || nodeFilesUnder(path.join(supplied, name, 'build', 'Release')).length === 0,
  );
  if (missing.length > 0) {
    throw new NativeModulesMissing(
      `cannot build ${missing.join(', ')} for ${arch} on this ${os.arch()} machine: build them ` +
        `on a ${arch} board against Node.js ${nodeVersion} and pass the folder holding ` +
        `<package>/build/Release/*.node with --native-modules`,
    );
  }
  if (supplied) checkNativeArch(supplied, arch);
}

/** Every addon in the slot must be a binary for the target; a stray one would not load. */
function checkNativeArch(nodeModules: string, arch: BundleArch): void {
  const wrong = nodeFilesUnder(nodeModules).filter((f) => elfMachineOf(f) !== ELF_MACHINES[arch]);
  if (wrong.length > 0) {
    throw new NativeModulesMissing(
      `native modules not built for ${arch}: ${wrong.map((f) => path.relative(nodeModules, f)).join(', ')}`,
    );
  }
}

/** Loads every native module under the runtime that ships, as the sign will. */
function smokeTest(stageDir: string, natives: string[]): Promise<void> {
  const node = path.join(stageDir, 'runtime', 'bin', 'node');
  const script = `for (const name of ${JSON.stringify(natives)}) require(name);
  if (${JSON.stringify(natives)}.includes('better-sqlite3')) {
    const Database = require('better-sqlite3');
    new Database(':memory:').prepare('select 1').get();
  }`;
  return run(node, ['-e', script], path.join(stageDir, 'app'));
}
