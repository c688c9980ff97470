import fs from 'node:fs';

/** Timing helpers for benchmarks: every figure is printed beside a baseline from the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
}

/** Mean milliseconds per call after a warm-up. */
export function timePerCall(
  fn: () => unknown,
  calls: number,
  warmup = Math.ceil(calls / 10),
): number {
  for (let i = 0; i < warmup; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e6 / calls;
}

export function printFigures(section: string, figures: Figure[]): void {
  console.log(`\n## ${section}`);
  for (const f of figures) {
    const value = `${round(f.value)} ${f.unit}`;
    const against = f.baseline
      ? `   (${round(f.value / f.baseline.value)}x ${f.baseline.name}: ${round(f.baseline.value)} ${f.unit})`
      : '';
    console.log(`  ${f.name.padEnd(66)} ${value.padStart(14)}${against}`);
  }
}

function round(n: number): string {
  if (n >= 100) return n.toFixed(0);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

/** Resident set size of a process, from /proc (Linux), in MiB. */
export function rssMiB(pid: number): number {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? NaN);
  return kb / 1024;
}

/** Median milliseconds of single calls after a warm-up: steadier than a mean on a shared machine. */
export function medianPerCall(fn: () => unknown, calls: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? 0;
}
