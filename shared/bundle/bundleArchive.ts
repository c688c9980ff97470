/**
 * The bundle file: an uncompressed tar whose entries come in a fixed order,
 * like a Mender artifact, so the small signed parts are read before the big
 * payload streams by:
 *   manifest.json   the exact signed bytes of the manifest
 *   manifest.sig    { keyId, signature } over those bytes
 *   trust.json      key statements (rotation, revocation), each self-signed
 *   payload.tar.gz  the slot's files; per-file SHA-256s are in the manifest
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { z } from 'zod';
import {
  bundleManifest,
  signatureEntry,
  trustChain,
  type BundleManifest,
  type KeyStatement,
  type SignatureEntry,
} from '../update';

export const BUNDLE_ENTRIES = ['manifest.json', 'manifest.sig', 'trust.json', 'payload.tar.gz'];
const SMALL_ENTRY_LIMIT = 16 * 1024 * 1024;

/** The payload as it streams out of the bundle; consume it with for-await or Readable.from. */
export type PayloadStream = AsyncIterable<Buffer>;

export class BundleFormatError extends Error {
  readonly reason = 'malformed-bundle' as const;
}

/** Carries an error thrown by the caller's payload handler through untouched. */
class PayloadHandlerError extends Error {
  constructor(override readonly cause: unknown) {
    super('payload handler failed');
  }
}

export interface BundleHead {
  manifestBytes: Buffer;
  manifest: BundleManifest;
  signature: SignatureEntry;
  trust: KeyStatement[];
}

async function collect(
  stream: AsyncIterable<Buffer>,
  limit: number,
  name: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new BundleFormatError(`${name} is larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson<T>(bytes: Buffer, schema: z.ZodType<T>, name: string): T {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new BundleFormatError(`${name} is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new BundleFormatError(`${name}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Reads a bundle from a stream. The payload is handed to `onPayload` (which
 * must consume it) or drained. Throws BundleFormatError on anything out of shape.
 */
export async function readBundle(
  input: Readable,
  onPayload?: (payload: PayloadStream, head: BundleHead) => Promise<void>,
): Promise<BundleHead> {
  const extract = tar.extract();
  const piping = pipeline(input, extract).catch((err: Error) => err);
  const parts: Partial<{
    manifestBytes: Buffer;
    signature: SignatureEntry;
    trust: KeyStatement[];
  }> = {};
  let head: BundleHead | undefined;
  let index = 0;
  try {
    for await (const raw of extract) {
      // tar-stream hands out file bodies as byte chunks.
      const entry = raw as typeof raw & AsyncIterable<Buffer>;
      const expected = BUNDLE_ENTRIES[index];
      index += 1;
      if (entry.header.name !== expected || entry.header.type !== 'file') {
        throw new BundleFormatError(
          `entry ${index} is ${entry.header.name}, expected ${expected ?? 'nothing more'}`,
        );
      }
      if (expected === 'payload.tar.gz') {
        head = complete(parts);
        if (onPayload) {
          try {
            await onPayload(entry, head);
          } catch (err) {
            throw new PayloadHandlerError(err);
          }
        } else entry.resume();
        continue;
      }
      const bytes = await collect(entry, SMALL_ENTRY_LIMIT, expected);
      if (expected === 'manifest.json') parts.manifestBytes = bytes;
      else if (expected === 'manifest.sig')
        parts.signature = parseJson(bytes, signatureEntry, expected);
      else parts.trust = parseJson(bytes, trustChain, expected);
    }
  } catch (err) {
    input.destroy();
    extract.destroy();
    await piping;
    if (err instanceof PayloadHandlerError) throw err.cause;
    // Anything the tar reader trips over means the file is not a bundle.
    throw err instanceof BundleFormatError ? err : new BundleFormatError((err as Error).message);
  }
  const failed = await piping;
  if (failed) {
    throw failed instanceof BundleFormatError ? failed : new BundleFormatError(failed.message);
  }
  if (!head) throw new BundleFormatError('bundle ends before its payload');
  return head;
}

function complete(parts: {
  manifestBytes?: Buffer;
  signature?: SignatureEntry;
  trust?: KeyStatement[];
}): BundleHead {
  if (!parts.manifestBytes || !parts.signature || !parts.trust) {
    throw new BundleFormatError('bundle is missing its manifest, signature or trust chain');
  }
  return {
    manifestBytes: parts.manifestBytes,
    manifest: parseJson(parts.manifestBytes, bundleManifest, 'manifest.json'),
    signature: parts.signature,
    trust: parts.trust,
  };
}

export async function readBundleFile(
  file: string,
  onPayload?: (payload: PayloadStream, head: BundleHead) => Promise<void>,
): Promise<BundleHead> {
  return readBundle(fs.createReadStream(file), onPayload);
}

/** Writes a bundle file from its parts; the payload is streamed from disk. */
export async function writeBundle(
  outPath: string,
  parts: {
    manifestBytes: Buffer;
    signature: SignatureEntry;
    trust: KeyStatement[];
    payloadPath: string;
  },
): Promise<void> {
  const pack = tar.pack();
  const writing = pipeline(pack, fs.createWriteStream(outPath));
  const small = (name: string, bytes: Buffer) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: bytes.length, mode: 0o644, mtime: new Date(0) }, bytes, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  await small('manifest.json', parts.manifestBytes);
  await small('manifest.sig', Buffer.from(JSON.stringify(parts.signature)));
  await small('trust.json', Buffer.from(JSON.stringify(parts.trust)));
  const size = fs.statSync(parts.payloadPath).size;
  const entry = pack.entry({ name: 'payload.tar.gz', size, mode: 0o644, mtime: new Date(0) });
  await pipeline(fs.createReadStream(parts.payloadPath), entry);
  pack.finalize();
  await writing;
}
