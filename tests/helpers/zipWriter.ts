/**
 * Writes zip archives straight to disk, entry by entry, so test and bench
 * feeds of gigabytes (inflated) are generated without being held in memory.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';

interface Written {
  name: Buffer;
  offset: number;
  crc: number;
  compressed: number;
  inflated: number;
}

export class ZipFileWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly written: Written[] = [];

  constructor(path: string) {
    this.fd = fs.openSync(path, 'w');
  }

  /** Adds a small entry from memory, deflated. */
  add(name: string, content: string | Buffer): void {
    const bytes = typeof content === 'string' ? Buffer.from(content) : content;
    this.addRaw(name, zlib.deflateRawSync(bytes), {
      crc: zlib.crc32(bytes),
      inflated: bytes.length,
    });
  }

  /**
   * Adds an entry whose deflated bytes the caller made. `declared` is what the
   * headers say it inflates to: a bomb may lie here.
   */
  addRaw(
    name: string,
    deflated: Buffer | Buffer[],
    declared: { crc: number; inflated: number },
  ): void {
    const parts = Array.isArray(deflated) ? deflated : [deflated];
    const compressed = parts.reduce((n, p) => n + p.length, 0);
    const entry: Written = {
      name: Buffer.from(name),
      offset: this.offset,
      compressed,
      ...declared,
    };
    this.put(localHeader(entry));
    for (const part of parts) this.put(part);
    this.written.push(entry);
  }

  /** Streams an entry from generated chunks, deflating as it goes. */
  addGenerated(name: string, chunks: Iterable<string>, level = 6): void {
    const entry: Written = {
      name: Buffer.from(name),
      offset: this.offset,
      crc: 0,
      compressed: 0,
      inflated: 0,
    };
    const headerAt = this.offset;
    this.put(localHeader(entry));
    // Each chunk is deflated on its own and ends on a full flush, so the pieces join into
    // one valid stream while memory stays at one chunk.
    const put = (out: Buffer) => {
      entry.compressed += out.length;
      this.put(out);
    };
    for (const chunk of chunks) {
      const bytes = Buffer.from(chunk);
      entry.crc = zlib.crc32(bytes, entry.crc);
      entry.inflated += bytes.length;
      put(zlib.deflateRawSync(bytes, { level, finishFlush: zlib.constants.Z_FULL_FLUSH }));
    }
    put(zlib.deflateRawSync(Buffer.alloc(0)));
    fs.writeSync(this.fd, localHeader(entry), 0, 30, headerAt);
    this.written.push(entry);
  }

  close(): number {
    const start = this.offset;
    for (const e of this.written) this.put(centralHeader(e));
    const size = this.offset - start;
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.written.length, 8);
    end.writeUInt16LE(this.written.length, 10);
    end.writeUInt32LE(size, 12);
    end.writeUInt32LE(start, 16);
    this.put(end);
    fs.closeSync(this.fd);
    return this.offset;
  }

  private put(bytes: Buffer): void {
    fs.writeSync(this.fd, bytes);
    this.offset += bytes.length;
  }
}

function localHeader(e: Written): Buffer {
  const h = Buffer.alloc(30 + e.name.length);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(8, 8);
  h.writeUInt32LE(e.crc >>> 0, 14);
  h.writeUInt32LE(e.compressed, 18);
  h.writeUInt32LE(e.inflated, 22);
  h.writeUInt16LE(e.name.length, 26);
  e.name.copy(h, 30);
  return h;
}

function centralHeader(e: Written): Buffer {
  const h = Buffer.alloc(46 + e.name.length);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(8, 10);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(e.compressed, 20);
  h.writeUInt32LE(e.inflated, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt32LE(e.offset, 42);
  e.name.copy(h, 46);
  return h;
}
