/** The simulator connects thousands of clients: it only ever does so to this machine. */
import net from 'node:net';

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const loopback =
    host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
  if (!loopback) {
    throw new Error(`refusing ${url}: the fleet simulator connects to loopback addresses only`);
  }
}
