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
import { sha256OfFile } from '../../device/update/fileHash';
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
  const paths = listTree(root);
  const files: ManifestFile[] = [];
  for (const rel of paths) {
    const abs = path.join(root, rel);
    const stat = fs.statSync(abs);
    // Streamed, so hashing a 150 MB tree never blocks the event loop for long.
    const sha256 = await sha256OfFile(abs);
    files.push({ path: rel, size: stat.size, sha256, exec: (stat.mode & 0o111) !== 0 });
  }
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
  for (const file of files) {
    const entry = pack.entry({
      name: file.path,
      size: file.size,
      mode: file.exec ? 0o755 : 0o644,
      mtime: new Date(0),
    });
    await pipeline(fs.createReadStream(path.join(root, file.path)), entry);
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
