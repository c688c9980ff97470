/**
 * Fetches a bundle into a partial file, resuming with an HTTP Range request
 * from whatever is already on disk, so a reboot mid-download costs only the
 * missing bytes (the gap behind Mender MEN-2293 and rauc#768). Bandwidth is
 * capped; every byte fetched counts against the update's data budget.
 */
import fs from 'node:fs';
import type { UpdateFailureReason } from '../../shared';
import { httpGet, type GetAnswer } from './httpGet';

export class DownloadError extends Error {
  constructor(
    message: string,
    /** Transient failures are retried with backoff; the others end the update. */
    readonly transient: boolean,
    readonly reason: UpdateFailureReason = 'download-failed',
  ) {
    super(message);
  }
}

export interface DownloadOptions {
  url: string;
  partPath: string;
  expectedSize: number;
  /** 0 for no cap. */
  maxBytesPerSecond: number;
  /** Bytes this download may still fetch before the data budget is spent. */
  budgetLeft: number;
  /** Called with the bytes fetched since the last call, at least every second of transfer. */
  onFetched: (bytes: number, onDisk: number) => void;
  signal: AbortSignal;
  /** The CA an https:// URL must chain to (the manager's); unset: the system's. */
  ca?: string | undefined;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** Resolves when the partial file holds exactly expectedSize bytes. */
export async function download(options: DownloadOptions): Promise<void> {
  const { url, partPath, expectedSize, signal } = options;
  let onDisk = fs.statSync(partPath, { throwIfNoEntry: false })?.size ?? 0;
  if (onDisk > expectedSize) {
    fs.rmSync(partPath);
    onDisk = 0;
  }
  if (onDisk === expectedSize) return;
  let response: GetAnswer;
  try {
    response = await httpGet(url, {
      headers: onDisk > 0 ? { range: `bytes=${onDisk}-` } : {},
      signal,
      ca: options.ca,
    });
  } catch (err) {
    throw new DownloadError(`cannot reach ${url}: ${(err as Error).message}`, true);
  }
  if (response.status !== 200 && response.status !== 206) response.cancel();
  if (response.status === 416 || response.status === 404 || response.status === 410) {
    throw new DownloadError(`server answered ${response.status} for ${url}`, false);
  }
  if (response.status !== 200 && response.status !== 206) {
    throw new DownloadError(`server answered ${response.status} for ${url}`, true);
  }
  let start = 0;
  if (response.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.header('content-range') ?? '');
    if (!range || Number(range[1]) !== onDisk) {
      response.cancel();
      throw new DownloadError('server sent a range other than the one asked for', true);
    }
    if (Number(range[3]) !== expectedSize) {
      response.cancel();
      throw new DownloadError(
        `server holds ${range[3]} bytes, the offer says ${expectedSize}`,
        false,
        'hash-mismatch',
      );
    }
    start = onDisk;
  } else {
    // No range support (or a fresh start): begin again from zero.
    const length = Number(response.header('content-length') ?? NaN);
    if (Number.isFinite(length) && length !== expectedSize) {
      response.cancel();
      throw new DownloadError(
        `server holds ${length} bytes, the offer says ${expectedSize}`,
        false,
        'hash-mismatch',
      );
    }
  }
  const fd = fs.openSync(partPath, start === 0 ? 'w' : 'a');
  let written = start;
  let unreported = 0;
  let lastReport = performance.now();
  const began = performance.now();
  let sinceStart = 0;
  try {
    for await (const chunk of response.body) {
      if (sinceStart + chunk.length > options.budgetLeft) {
        throw new DownloadError('the data budget for this update is spent', false, 'data-budget');
      }
      fs.writeSync(fd, chunk);
      written += chunk.length;
      sinceStart += chunk.length;
      unreported += chunk.length;
      if (performance.now() - lastReport >= 1000) {
        options.onFetched(unreported, written);
        unreported = 0;
        lastReport = performance.now();
      }
      if (options.maxBytesPerSecond > 0) {
        const dueMs = (sinceStart / options.maxBytesPerSecond) * 1000;
        const aheadMs = dueMs - (performance.now() - began);
        if (aheadMs > 5) await sleep(aheadMs, signal);
      }
      if (signal.aborted) throw new DownloadError('download stopped', true);
    }
  } catch (err) {
    response.cancel();
    if (err instanceof DownloadError) throw err;
    throw new DownloadError(`transfer broke off: ${(err as Error).message}`, true);
  } finally {
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    options.onFetched(unreported, written);
  }
  if (written !== expectedSize) {
    throw new DownloadError(
      `got ${written} bytes, the offer says ${expectedSize}`,
      written < expectedSize,
      'hash-mismatch',
    );
  }
}
