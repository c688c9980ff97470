/**
 * One sign's download as its own process, so the update bench can cut its
 * power (SIGKILL) mid-transfer the way a board loses it:
 *   tsx bench/downloadOnce.ts <url> <part file> <expected size> <bytes per second>
 * Exits 0 once the partial file is complete.
 */
import { download } from '../device/update/downloader';

const [url = '', partPath = '', size = '0', cap = '0'] = process.argv.slice(2);
await download({
  url,
  partPath,
  expectedSize: Number(size),
  maxBytesPerSecond: Number(cap),
  budgetLeft: Number(size) * 2,
  onFetched: () => undefined,
  signal: new AbortController().signal,
});
