/**
 * Packs a slot tree into payload.tar.gz and lists every file with its size,
 * SHA-256 and exec bit for the manifest. Paths are sorted and mtimes zeroed,
 * so the same tree always gives the same payload.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import type { ManifestFile } from '../../shared';

export interface PackedPayload {
  files: ManifestFile[];
  sha256: string;
  size: number;
  totalSize: number;
}

/** Every regular file under `root`, relative and sorted; symlinks are refused. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
      else throw new Error(`${child}: only regular files and directories go into a bundle`);
    }
  };
  walk('');
  return out.sort();
}

export async function packPayload(
  root: string,
  outPath: string,
  options: { level?: number } = {},
): Promise<PackedPayload> {
  const files: ManifestFile[] = [];
  const pack = tar.pack();
  const hash = crypto.createHash('sha256');
  let size = 0;
  const writing = pipeline(
    pack,
    zlib.createGzip({ level: options.level ?? 6 }),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    fs.createWriteStream(outPath),
  );
  // A failed write must not leave the loop below waiting on a pack nobody reads.
  writing.catch(() => pack.destroy());
  for (const rel of listTree(root)) {
    const abs = path.join(root, rel);
    const stat = fs.statSync(abs);
    const exec = (stat.mode & 0o111) !== 0;
    const entry = pack.entry({
      name: rel,
      size: stat.size,
      mode: exec ? 0o755 : 0o644,
      mtime: new Date(0),
    });
    // Each file is read once: hashed for the manifest on its way into the archive.
    const fileHash = crypto.createHash('sha256');
    await pipeline(
      fs.createReadStream(abs),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          fileHash.update(chunk);
          yield chunk;
        }
      },
      entry,
    );
    files.push({ path: rel, size: stat.size, sha256: fileHash.digest('hex'), exec });
  }
  pack.finalize();
  await writing;
  return {
    files,
    sha256: hash.digest('hex'),
    size,
    totalSize: files.reduce((sum, f) => sum + f.size, 0),
  };
}
