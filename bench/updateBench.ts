/**
 * A sign update end to end on this machine, each figure beside a baseline from
 * the same run: the release bundle's size (vs the tree it carries, and a plain
 * tar.gz of that tree), the download at the bandwidth cap (vs the floor the cap
 * itself sets), applying it the way the agent does (vs a plain copy of the same
 * files), and the bytes a download moves after a power cut (vs the bytes that
 * were missing, and the whole bundle).
 *
 * Quick by default: the download is capped at 16 MiB/s. STOPSIGN_BENCH_BIG=1
 * uses the agent's own default cap (256 KiB/s: minutes for one bundle).
 * The runtime comes from var/bundle-cache (scripts/setup.sh builds it).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { download } from '../device/update/downloader';
import { installBundle } from '../device/update/installer';
import { Slots } from '../device/update/slots';
import { verifyBundle } from '../device/update/verifier';
import { linkTree } from '../scripts/bundle/buildBundle';
import { hostRuntime } from '../scripts/bundle/hostRuntime';
import { makeBundle, type BuiltBundle } from '../scripts/bundle/makeBundle';
import { generateSigningKey } from '../shared/bundle/signing';
import { BundleServer } from '../tests/helpers/bundleServer';
import { printFigures, type Figure } from './measure';

const root = path.resolve(import.meta.dirname, '..');
const MiB = 1024 * 1024;
const HARDWARE = 'bench-board';

async function seconds<T>(fn: () => Promise<T> | T): Promise<{ value: T; s: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, s: (performance.now() - started) / 1000 };
}

/** Flushes the file system under `dir`, as the installer's syncfs does. */
const syncfs = (dir: string) => execFileSync('sync', ['-f', dir]);

async function releaseTree(dir: string): Promise<{ tree: string; nodeVersion: string }> {
  const tree = path.join(dir, 'tree');
  const runtime = await hostRuntime({
    projectRoot: root,
    cacheDir: path.join(root, 'var', 'bundle-cache'),
    appDir: path.join(tree, 'app'),
    onBuild: () =>
      console.log(
        '  (the sign runtime is not built yet: building it now; setup.sh does this once)',
      ),
  });
  linkTree(path.join(runtime.staged.dir, 'runtime'), path.join(tree, 'runtime'));
  linkTree(
    path.join(runtime.staged.dir, 'app', 'node_modules'),
    path.join(tree, 'app', 'node_modules'),
  );
  return { tree, nodeVersion: runtime.nodeVersion };
}

/** Downloads in a child process, SIGKILLed once `killAt` bytes are on disk; then resumes here. */
async function downloadWithPowerCut(
  server: BundleServer,
  bundle: BuiltBundle,
  dir: string,
  cap: number,
): Promise<{ onDisk: number; first: number; resumed: number }> {
  const url = server.serve('cut.bundle', bundle.path);
  const part = path.join(dir, 'cut.part');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'downloadOnce.ts'),
      url,
      part,
      String(bundle.size),
      String(cap),
    ],
    { cwd: root, stdio: 'ignore' },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const killAt = Math.floor(bundle.size * 0.4);
  while ((fs.statSync(part, { throwIfNoEntry: false })?.size ?? 0) < killAt) {
    if (child.exitCode !== null) throw new Error('the download ended before the power cut');
    await new Promise((r) => setTimeout(r, 5));
  }
  child.kill('SIGKILL');
  await exited;
  const onDisk = fs.statSync(part).size;
  await download({
    url,
    partPath: part,
    expectedSize: bundle.size,
    maxBytesPerSecond: 0,
    budgetLeft: bundle.size * 2,
    onFetched: () => undefined,
    signal: new AbortController().signal,
  });
  const [first, resumed] = server.requests.filter((r) => r.path === '/cut.bundle');
  return { onDisk, first: first?.sent ?? NaN, resumed: resumed?.sent ?? NaN };
}

export async function benchUpdates(): Promise<void> {
  const big = process.env.STOPSIGN_BENCH_BIG === '1';
  const cap = big ? 256 * 1024 : 16 * MiB;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-bench-update-'));
  const server = new BundleServer();
  let serving = false;
  try {
    const { tree, nodeVersion } = await releaseTree(dir);
    const key = generateSigningKey('bench');
    const build = await seconds(() =>
      makeBundle({
        tree,
        version: '1.1.0',
        minVersion: '1.0.0',
        hardware: [HARDWARE],
        arch: process.arch as 'x64' | 'arm64',
        nodeVersion,
        releaseNotes: 'bench',
        key,
        outPath: path.join(dir, 'release.bundle'),
      }),
    );
    const bundle = build.value;
    const plainTgz = path.join(dir, 'plain.tar.gz');
    const plain = await seconds(() =>
      execFileSync('sh', ['-c', `tar -C "$1" -cf - . | gzip -6 > "$2"`, 'sh', tree, plainTgz]),
    );

    await server.start();
    serving = true;
    const url = server.serve('release.bundle', bundle.path);
    const fetched = path.join(dir, 'fetched.bundle');
    const fetch = await seconds(() =>
      download({
        url,
        partPath: fetched,
        expectedSize: bundle.size,
        maxBytesPerSecond: cap,
        budgetLeft: bundle.size * 2,
        onFetched: () => undefined,
        signal: new AbortController().signal,
      }),
    );

    // Apply as the agent does: verify, then verify again and install into the spare slot.
    const slots = new Slots(path.join(dir, 'disk'));
    fs.mkdirSync(path.join(slots.root, 'slots'), { recursive: true });
    const facts = {
      installedVersion: '1.0.0',
      hardware: HARDWARE,
      arch: process.arch,
      freeBytes: Number.MAX_SAFE_INTEGER,
    };
    const trust = { seq: 0, keys: [key.entry], revoked: [] };
    const apply = await seconds(async () => {
      const checked = await verifyBundle(fetched, trust, facts);
      if (!checked.ok) throw new Error(`bundle refused: ${checked.refusal.detail}`);
      const again = await verifyBundle(fetched, trust, facts);
      if (!again.ok) throw new Error(`bundle refused: ${again.refusal.detail}`);
      await installBundle({ file: fetched, manifest: again.manifest, slots, slot: 'b', nowMs: 0 });
    });
    const copyTo = path.join(dir, 'copy');
    const copy = await seconds(() => {
      fs.cpSync(tree, copyTo, { recursive: true, dereference: true });
      syncfs(copyTo);
    });
    const untarTo = path.join(dir, 'untar');
    fs.mkdirSync(untarTo);
    const untar = await seconds(() => {
      execFileSync('tar', ['-xzf', plainTgz, '-C', untarTo]);
      syncfs(untarTo);
    });

    const cut = await downloadWithPowerCut(server, bundle, dir, cap);

    const treeBytes = bundle.manifest.totalSize;
    const figures: Figure[] = [
      {
        name: `bundle size (${bundle.manifest.files.length} files, gzip 6)`,
        value: bundle.size / MiB,
        unit: 'MiB',
        baseline: { name: 'the slot tree unpacked', value: treeBytes / MiB },
      },
      {
        name: 'bundle size',
        value: bundle.size / MiB,
        unit: 'MiB',
        baseline: {
          name: 'plain tar | gzip -6 of the tree',
          value: fs.statSync(plainTgz).size / MiB,
        },
      },
      {
        name: 'packing and signing the bundle (runtime cached)',
        value: build.s,
        unit: 's',
        baseline: { name: 'tar | gzip -6', value: plain.s },
      },
      {
        name: `download at the cap of ${cap / 1024} KiB/s`,
        value: fetch.s,
        unit: 's',
        baseline: { name: 'size / cap', value: bundle.size / cap },
      },
      {
        name: 'apply: verify, verify + install into the spare slot, syncfs',
        value: apply.s,
        unit: 's',
        baseline: { name: 'plain copy of the tree + syncfs', value: copy.s },
      },
      {
        name: 'apply',
        value: apply.s,
        unit: 's',
        baseline: { name: 'tar -xzf of a plain tar.gz + syncfs', value: untar.s },
      },
      {
        name: `fetched after a power cut at ${((cut.onDisk / bundle.size) * 100).toFixed(0)} % on disk`,
        value: cut.resumed / MiB,
        unit: 'MiB',
        baseline: { name: 'the bytes missing on disk', value: (bundle.size - cut.onDisk) / MiB },
      },
      {
        name: 'served in all, both requests',
        value: (cut.first + cut.resumed) / MiB,
        unit: 'MiB',
        baseline: { name: 'the bundle', value: bundle.size / MiB },
      },
    ];
    printFigures('updates: bundle, download, apply, resume', figures);
  } finally {
    if (serving) await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
