/** Small helpers the fleet scenarios share: waiting, percentiles, a figure record. */
export interface FleetFigure {
  scenario: string;
  mode: string;
  name: string;
  value: number;
  unit: string;
  floor?: { name: string; value: number };
  /** Set when the figure is a count reached before a deadline, not a completed measurement. */
  note?: string;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export const wallNow = (): number => performance.timeOrigin + performance.now();

/** Polls until `done()` or the deadline; resolves whether it got there. */
export async function until(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  everyMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** The q-quantile (0..1) of the finite values, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Milliseconds from t0 until the given share of all `total` signs had it (NaN if never). */
export function timeToShare(
  times: readonly number[],
  t0: number,
  share: number,
  total: number,
): number {
  const sorted = times.filter(Number.isFinite).sort((a, b) => a - b);
  const needed = Math.ceil(share * total);
  if (sorted.length < needed || needed === 0) return Number.NaN;
  return (sorted[needed - 1] as number) - t0;
}

export function received(times: readonly number[]): number {
  return times.filter(Number.isFinite).length;
}
