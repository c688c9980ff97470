/**
 * Streams the files the importer reads out of a GTFS zip, never holding one
 * whole in memory. The central directory is checked first (entry count,
 * declared sizes, compression ratio), so a bomb is refused before a byte is
 * inflated; what actually inflates is counted as it streams, so a bomb that
 * lies in its headers is cut off at the declared size. Feeds are often zipped
 * with their folder, so files are matched by base name at the shallowest
 * depth; everything else (shapes.txt is the bulk of most feeds) is skipped.
 */
import fs from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { GtfsImportError, errorMessage } from './errors';
import { ImportLimitError, mib, type ImportLimits } from './importLimits';

export type ZipLimits = Pick<
  ImportLimits,
  'maxEntries' | 'maxFileBytes' | 'maxTotalBytes' | 'maxCompressionRatio'
>;

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).toLowerCase();
}

function depth(path: string): number {
  return path.split('/').length - 1;
}

/** Resource-fork and hidden entries that macOS and others add beside the real files. */
function isJunk(path: string): boolean {
  return path.startsWith('__MACOSX/') || baseName(path).startsWith('.');
}

export class GtfsZip {
  private inflatedTotal = 0;

  private constructor(
    private readonly zip: ZipFile,
    private readonly entries: Map<string, Entry>,
    private readonly limits: ZipLimits,
  ) {}

  /** Opens a zip file on disk or in memory and checks its directory against the limits. */
  static async open(
    input: string | Uint8Array,
    wanted: readonly string[],
    limits: ZipLimits,
  ): Promise<GtfsZip> {
    let zip: ZipFile;
    try {
      zip = await openZip(input, 0).catch(async (error: Error) => {
        // Some agencies' tools leave bytes after the end record (Caltrain's feed has 680):
        // the archive before them is whole, so it is read without them.
        const trailing = /Expected: (\d+)\. Found: 0\./.exec(error.message);
        if (!trailing) throw error;
        return openZip(input, Number(trailing[1]));
      });
    } catch (error) {
      throw new GtfsImportError(`not a zip archive: ${errorMessage(error)}`);
    }
    try {
      if (zip.entryCount > limits.maxEntries) {
        throw new ImportLimitError(
          `the zip has ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted`,
        );
      }
      const entries = await chooseEntries(zip, new Set(wanted));
      const archive = new GtfsZip(zip, entries, limits);
      archive.checkDeclaredSizes();
      return archive;
    } catch (error) {
      zip.close();
      if (error instanceof GtfsImportError) throw error;
      throw new GtfsImportError(`not a zip archive: ${errorMessage(error)}`);
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Declared inflated size, 0 for an absent file. */
  size(name: string): number {
    return this.entries.get(name)?.uncompressedSize ?? 0;
  }

  /** The inflated bytes of one file, counted against the limits as they flow. */
  async stream(name: string): Promise<Readable> {
    const entry = this.entries.get(name);
    if (!entry) throw new GtfsImportError(`${name} is missing from the feed`);
    let raw: Readable;
    try {
      raw = await new Promise<Readable>((resolve, reject) =>
        this.zip.openReadStream(entry, (err, stream) =>
          err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream),
        ),
      );
    } catch (error) {
      throw new GtfsImportError(`${name} could not be read from the zip: ${errorMessage(error)}`);
    }
    const counter = new InflateCounter(name, entry.uncompressedSize, this.limits, (n) => {
      this.inflatedTotal += n;
      return this.inflatedTotal;
    });
    raw.on('error', (error) => counter.destroy(zipStreamError(name, error)));
    return raw.pipe(counter);
  }

  close(): void {
    this.zip.close();
  }

  private checkDeclaredSizes(): void {
    const { maxFileBytes, maxTotalBytes, maxCompressionRatio } = this.limits;
    let total = 0;
    for (const [name, entry] of this.entries) {
      const inflated = entry.uncompressedSize;
      total += inflated;
      if (inflated > maxFileBytes) {
        throw new ImportLimitError(
          `${name} inflates to ${mib(inflated)}; at most ${mib(maxFileBytes)} per file`,
        );
      }
      const ratio = inflated / Math.max(1, entry.compressedSize);
      // Tiny files compress oddly; a ratio only means something past a few kilobytes.
      if (inflated > 64 * 1024 && ratio > maxCompressionRatio) {
        throw new ImportLimitError(
          `${name} would inflate ${Math.round(ratio)}:1 (${mib(entry.compressedSize)} to ${mib(inflated)}); ` +
            `at most ${maxCompressionRatio}:1 is accepted: refused as a zip bomb`,
        );
      }
    }
    if (total > maxTotalBytes) {
      throw new ImportLimitError(
        `the feed's files inflate to ${mib(total)}; at most ${mib(maxTotalBytes)} in total`,
      );
    }
  }
}

/** Opens the archive as if its last `ignoreTrailing` bytes were not there. */
async function openZip(input: string | Uint8Array, ignoreTrailing: number): Promise<ZipFile> {
  const options = { lazyEntries: true, autoClose: false, validateEntrySizes: true };
  return new Promise<ZipFile>((resolve, reject) => {
    const done = (err: Error | null, file?: ZipFile) =>
      err || !file ? reject(err ?? new Error('no zip')) : resolve(file);
    if (typeof input !== 'string') {
      const bytes = Buffer.from(input.buffer, input.byteOffset, input.length);
      yauzl.fromBuffer(bytes.subarray(0, bytes.length - ignoreTrailing), options, done);
    } else if (ignoreTrailing === 0) {
      yauzl.open(input, options, done);
    } else {
      const size = fs.statSync(input).size - ignoreTrailing;
      yauzl.fromRandomAccessReader(new FileRangeReader(input), size, options, done);
    }
  });
}

/** Reads byte ranges of a file; lets yauzl see a shorter file than the one on disk. */
class FileRangeReader extends yauzl.RandomAccessReader {
  constructor(private readonly path: string) {
    super();
  }

  override _readStreamForRange(start: number, end: number): Readable {
    return fs.createReadStream(this.path, { start, end: end - 1 });
  }
}

async function chooseEntries(zip: ZipFile, wanted: Set<string>): Promise<Map<string, Entry>> {
  const chosen = new Map<string, Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      const name = baseName(entry.fileName);
      const previous = chosen.get(name);
      if (
        !isJunk(entry.fileName) &&
        wanted.has(name) &&
        (previous === undefined || depth(previous.fileName) > depth(entry.fileName))
      ) {
        chosen.set(name, entry);
      }
      zip.readEntry();
    });
    zip.once('end', () => resolve());
    zip.once('error', reject);
    zip.readEntry();
  });
  return chosen;
}

function zipStreamError(name: string, error: Error): GtfsImportError {
  // yauzl's size check: the entry inflates past what its header declared.
  if (/too many bytes/i.test(error.message)) {
    return new ImportLimitError(
      `${name} inflates past the size its header declares: refused as a zip bomb`,
    );
  }
  return new GtfsImportError(`${name} could not be inflated: ${errorMessage(error)}`);
}

/** Passes bytes through, refusing the file once it or the whole feed passes a limit. */
class InflateCounter extends Transform {
  private inflated = 0;

  constructor(
    private readonly name: string,
    private readonly declared: number,
    private readonly limits: ZipLimits,
    private readonly addToTotal: (bytes: number) => number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.inflated += chunk.length;
    const total = this.addToTotal(chunk.length);
    const { maxFileBytes, maxTotalBytes } = this.limits;
    if (this.inflated > this.declared) {
      return done(
        new ImportLimitError(
          `${this.name} inflates past the ${this.declared} bytes its header declares: refused as a zip bomb`,
        ),
      );
    }
    if (this.inflated > maxFileBytes) {
      return done(new ImportLimitError(`${this.name} inflates past ${mib(maxFileBytes)}`));
    }
    if (total > maxTotalBytes) {
      return done(new ImportLimitError(`the feed inflates past ${mib(maxTotalBytes)} in total`));
    }
    done(null, chunk);
  }
}
