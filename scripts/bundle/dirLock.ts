/**
 * A lock between processes on one machine: mkdir is atomic. Two test workers
 * that want the same cached runtime build it once; a lock left by a killed
 * builder is taken over once it is older than `staleMs`.
 */
import fs from 'node:fs';

export async function withDirLock<T>(
  lockDir: string,
  fn: () => Promise<T>,
  options: { staleMs?: number; pollMs?: number } = {},
): Promise<T> {
  const { staleMs = 30 * 60_000, pollMs = 500 } = options;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > staleMs) fs.rmSync(lockDir, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
