/**
 * GTFS import, each run in a fresh process: time and peak RSS of the Halifax
 * feed beside the gtfs npm package importing the same file, and peak RSS as a
 * generated feed grows (flat: stop_times stream to the database a trip at a
 * time). The 5-million-row feed runs with STOPSIGN_BENCH_BIG=1.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSyntheticCity } from '../tests/helpers/syntheticFeeds';
import { printFigures, type Figure } from './measure';

const HALIFAX = path.resolve(import.meta.dirname, '../../shared/data/gtfs/halifax-2025.zip');
const root = path.resolve(import.meta.dirname, '..');

function importOnce(
  mode: 'ours' | 'gtfs',
  zip: string,
  work: string,
): { ms: number; peakRssMiB: number } {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', 'bench/importOne.ts', mode, zip, work],
    {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const last = out.trim().split('\n').at(-1) ?? '{}';
  return JSON.parse(last) as { ms: number; peakRssMiB: number };
}

function bareNodeRss(): number {
  const out = execFileSync(
    process.execPath,
    ['-e', 'console.log(process.resourceUsage().maxRSS / 1024)'],
    {
      encoding: 'utf8',
    },
  );
  return Number(out.trim());
}

export function benchImport(big = process.env.STOPSIGN_BENCH_BIG === '1'): void {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stopsign-import-bench-'));
  const figures: Figure[] = [];
  try {
    const floor = bareNodeRss();
    if (fs.existsSync(HALIFAX)) {
      const ours = importOnce('ours', HALIFAX, work);
      const theirs = importOnce('gtfs', HALIFAX, work);
      figures.push(
        {
          name: 'halifax-2025 import: time',
          value: ours.ms,
          unit: 'ms',
          baseline: { name: 'gtfs npm package', value: theirs.ms },
        },
        {
          name: 'halifax-2025 import: peak RSS',
          value: ours.peakRssMiB,
          unit: 'MiB',
          baseline: { name: 'gtfs npm package', value: theirs.peakRssMiB },
        },
      );
    } else {
      console.log(
        '\n(halifax-2025.zip not found beside the project: the comparison with the gtfs package is skipped)',
      );
    }
    const sizes = big ? [300_000, 1_000_000, 5_000_000] : [300_000, 1_000_000];
    let first: number | undefined;
    for (const rows of sizes) {
      const zip = path.join(work, `city-${rows}.zip`);
      writeSyntheticCity(zip, rows);
      const ours = importOnce('ours', zip, work);
      fs.rmSync(zip);
      fs.rmSync(path.join(work, 'ours.db'), { force: true });
      first ??= ours.peakRssMiB;
      figures.push(
        { name: `generated ${rows / 1e6}M stop_times: import time`, value: ours.ms, unit: 'ms' },
        {
          name: `generated ${rows / 1e6}M stop_times: peak RSS`,
          value: ours.peakRssMiB,
          unit: 'MiB',
          baseline: { name: 'bare node process', value: floor },
        },
      );
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  printFigures('GTFS import (fresh process each)', figures);
}
