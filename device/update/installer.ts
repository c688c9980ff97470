/**
 * Unpacks a verified bundle's payload into the spare slot. Every file is
 * hashed as it is written and must match the signed manifest; anything not in
 * the manifest, a link, or a path leaving the slot stops the install. The
 * slot is emptied first and marked installed only at the very end, so a
 * half-written slot can never be made current.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { BundleManifest, ManifestFile } from '../../shared';
import { readBundleFile } from '../../shared/bundle/bundleArchive';
import { fsyncDir } from './atomicFile';
import type { SlotName, Slots } from './slots';

export class InstallError extends Error {
  constructor(
    message: string,
    readonly reason: 'hash-mismatch' | 'install-failed',
  ) {
    super(message);
  }
}

/**
 * Everything of the slot on disk before slot.json says it is installed: one
 * syncfs of the slot's file system (coreutils `sync -f`), far cheaper than an
 * fsync per file for thousands of files; per-file fsync where that is missing.
 */
async function flushSlot(slotDir: string, files: string[], dirs: Set<string>): Promise<void> {
  const synced = await new Promise<boolean>((resolve) =>
    execFile('sync', ['-f', slotDir], { timeout: 120_000 }, (err) => resolve(!err)),
  );
  if (synced) return;
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  for (const dir of dirs) fsyncDir(dir);
}

export async function installBundle(options: {
  file: string;
  manifest: BundleManifest;
  slots: Slots;
  slot: SlotName;
  nowMs: number;
}): Promise<void> {
  const { slots, slot, manifest } = options;
  slots.wipe(slot);
  const slotDir = slots.dir(slot);
  const expected = new Map<string, ManifestFile>(manifest.files.map((f) => [f.path, f]));
  const seen = new Set<string>();
  const dirs = new Set<string>();

  await readBundleFile(options.file, async (payload) => {
    const extract = tar.extract();
    const piping = pipeline(Readable.from(payload), zlib.createGunzip(), extract).catch(
      (err: Error) => err,
    );
    try {
      for await (const raw of extract) {
        const entry = raw as typeof raw & AsyncIterable<Buffer>;
        const name = entry.header.name.replace(/^\.\//, '');
        if (entry.header.type === 'directory') {
          entry.resume();
          continue;
        }
        const spec = expected.get(name);
        if (entry.header.type !== 'file' || !spec || seen.has(name)) {
          throw new InstallError(
            `payload entry ${name} is not a file the manifest lists`,
            'hash-mismatch',
          );
        }
        seen.add(name);
        const target = path.join(slotDir, name);
        if (!target.startsWith(slotDir + path.sep)) {
          throw new InstallError(`payload entry ${name} leaves the slot`, 'hash-mismatch');
        }
        fs.mkdirSync(path.dirname(target), { recursive: true });
        dirs.add(path.dirname(target));
        const hash = crypto.createHash('sha256');
        let size = 0;
        const fd = fs.openSync(target, 'w', spec.exec ? 0o755 : 0o644);
        try {
          for await (const chunk of entry) {
            hash.update(chunk);
            size += chunk.length;
            fs.writeSync(fd, chunk);
          }
        } finally {
          fs.closeSync(fd);
        }
        if (size !== spec.size || hash.digest('hex') !== spec.sha256) {
          throw new InstallError(`${name} does not match its manifest hash`, 'hash-mismatch');
        }
      }
    } catch (err) {
      extract.destroy();
      await piping;
      throw err;
    }
    const failed = await piping;
    if (failed)
      throw new InstallError(`payload cannot be unpacked: ${failed.message}`, 'install-failed');
  });
  const missing = manifest.files.filter((f) => !seen.has(f.path));
  if (missing.length > 0) {
    throw new InstallError(
      `payload lacks ${missing.length} manifest files, e.g. ${missing[0]?.path}`,
      'hash-mismatch',
    );
  }
  fs.writeFileSync(path.join(slotDir, 'manifest.json'), JSON.stringify(manifest));
  await flushSlot(
    slotDir,
    [...seen].map((p) => path.join(slotDir, p)),
    dirs,
  );
  slots.markInstalled(slot, manifest.version, options.nowMs);
}
