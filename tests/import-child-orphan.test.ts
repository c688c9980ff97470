/**
 * The import process serves the manager that started it and nobody else: when
 * that manager dies (crash, SIGKILL, OOM killer), the import ends too rather
 * than running on as an orphan holding a write lock on the timetable.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImportMeta } from '../manager/gtfs/importMeta';
import { writeSyntheticCity } from './helpers/syntheticFeeds';
import { waitFor } from './helpers/deviceFixtures';

const root = path.resolve(import.meta.dirname, '..');
let dir: string;
let city: string;
let parent: ChildProcess | undefined;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-orphan-'));
  city = path.join(dir, 'city.zip');
  // Big enough that its import is still running when the parent is killed.
  writeSyntheticCity(city, 300_000);
});

afterAll(() => {
  parent?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Pids of the live (not zombie) processes whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  return fs.readdirSync('/proc').flatMap((name) => {
    if (!/^\d+$/.test(name)) return [];
    const stat = statOf(Number(name));
    return stat && stat.ppid === ppid && stat.state !== 'Z' ? [Number(name)] : [];
  });
}

/** State letter and parent pid from /proc/<pid>/stat; undefined once the process is gone. */
function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields follow the last ')'.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state ?? '?', ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function running(pid: number): boolean {
  const state = statOf(pid)?.state;
  return state !== undefined && state !== 'Z';
}

describe('an import whose manager dies', () => {
  it('ends with it instead of running on as an orphan', async () => {
    let log = '';
    parent = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/helpers/importParent.ts', dir, city],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    parent.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    parent.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const parentPid = parent.pid ?? 0;

    let importPid = 0;
    await waitFor(
      'the import process to start',
      () => {
        importPid = childrenOf(parentPid)[0] ?? 0;
        return importPid !== 0;
      },
      30_000,
    );
    // Well into the feed: its one write transaction has begun.
    await waitFor(
      'the import to write',
      () => fs.existsSync(path.join(dir, 'gtfs.db-journal')),
      60_000,
      50,
    );
    expect(log).not.toMatch(/imported|failed/);
    expect(running(importPid)).toBe(true);

    parent.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor('the import process to end', () => !running(importPid), 20_000, 100);
    console.info(`import process ended ${Date.now() - killedAt} ms after its parent was killed`);
    expect(log).not.toMatch(/imported/);
    // Ended mid-import: nothing half-written stands as the timetable.
    const db = new Database(path.join(dir, 'gtfs.db'));
    try {
      // Killed early, even the first import's tables were rolled back with it.
      const hasMeta = db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gtfs_import'")
        .get();
      if (hasMeta) expect(readImportMeta(db)).toBeUndefined();
    } finally {
      db.close();
    }
  }, 90_000);
});
