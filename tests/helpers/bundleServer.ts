/**
 * A real HTTP server for bundle files with Range support, counting the bytes
 * it sends, and able to break a transfer off after a number of bytes, as a
 * mobile link drops.
 */
import fs from 'node:fs';
import http from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';

export class BundleServer {
  private server: http.Server | undefined;
  private readonly files = new Map<string, string>();
  /** Bytes of bodies sent, per path. */
  readonly sent = new Map<string, number>();
  readonly requests: { path: string; range: string | undefined; sent: number }[] = [];
  /** Answer every request with the whole file, as a proxy that drops Range headers would. */
  ignoreRanges = false;
  /** Break each response off after this many body bytes (once per setting). */
  dropAfterBytes: number | null = null;
  url = '';

  serve(name: string, file: string): string {
    this.files.set(`/${name}`, file);
    return `${this.url}/${name}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = req.url ?? '';
    const record = { path, range: req.headers.range, sent: 0 };
    this.requests.push(record);
    const file = this.files.get(path);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    const size = fs.statSync(file).size;
    let start = 0;
    const range = this.ignoreRanges ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': size - start,
        'content-range': `bytes ${start}-${size - 1}/${size}`,
        'accept-ranges': 'bytes',
      });
    } else {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
    }
    const drop = this.dropAfterBytes;
    this.dropAfterBytes = null;
    let sentHere = 0;
    // Piped, so bytes are read only as fast as the client takes them: the count is what
    // went onto the wire (plus what the kernel's socket buffers held when a client died).
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const allowed = drop === null ? chunk.length : Math.min(chunk.length, drop - sentHere);
        sentHere += allowed;
        record.sent += allowed;
        this.sent.set(path, (this.sent.get(path) ?? 0) + allowed);
        if (drop !== null && sentHere >= drop) {
          done(null, chunk.subarray(0, allowed));
          setImmediate(() => res.destroy());
          return;
        }
        done(null, chunk);
      },
    });
    pipeline(fs.createReadStream(file, { start }), counter, res).catch(() => undefined);
  }
}
