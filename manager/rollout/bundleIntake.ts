/**
 * Accepts an uploaded bundle only if a sign would: the manifest parses, key
 * statements and signature verify against the fleet's trusted keys, and the
 * payload matches its hash. A refused upload gets the same reasons a sign
 * would report, and nothing is kept.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { publicKeyEntry, type UpdateFailureReason } from '../../shared';
import { BundleFormatError, readBundleFile } from '../../shared/bundle/bundleArchive';
import { applyStatements, checkSignature, initialTrust } from '../../shared/bundle/trust';
import type { BundleRecord } from './rolloutModel';
import type { RolloutRepository } from './rolloutRepository';

export class BundleRefused extends Error {
  constructor(
    readonly reason: UpdateFailureReason | 'no-trusted-keys' | 'duplicate',
    detail: string,
  ) {
    super(detail);
  }
}

const keysFile = z.object({ keys: z.array(publicKeyEntry).min(1) });

export class BundleIntake {
  constructor(
    private readonly options: {
      repo: RolloutRepository;
      dir: string;
      /** The same trusted-keys file the signs are provisioned with. */
      trustedKeysFile: string | undefined;
      clock: () => number;
    },
  ) {}

  async accept(bytes: Buffer): Promise<BundleRecord> {
    const { dir, trustedKeysFile, repo } = this.options;
    if (!trustedKeysFile) {
      throw new BundleRefused(
        'no-trusted-keys',
        'no trusted keys are configured (STOPSIGN_BUNDLE_TRUSTED_KEYS), so no signature can be checked',
      );
    }
    const trust = initialTrust(
      keysFile.parse(JSON.parse(fs.readFileSync(trustedKeysFile, 'utf8'))).keys,
    );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await repo.bundleBySha256(sha256);
    if (existing)
      throw new BundleRefused(
        'duplicate',
        `this bundle is already uploaded as ${existing.bundleId}`,
      );
    fs.mkdirSync(dir, { recursive: true });
    const tmp = path.join(dir, `upload-${randomUUID()}.tmp`);
    fs.writeFileSync(tmp, bytes);
    try {
      const payload = createHash('sha256');
      let payloadSize = 0;
      const head = await readBundleFile(tmp, async (stream) => {
        for await (const chunk of stream) {
          payload.update(chunk);
          payloadSize += chunk.length;
        }
      }).catch((err: unknown) => {
        if (err instanceof BundleFormatError)
          throw new BundleRefused('malformed-bundle', err.message);
        throw err;
      });
      const applied = applyStatements(trust, head.trust);
      if (applied.failure) throw new BundleRefused(applied.failure.reason, applied.failure.detail);
      const bad = checkSignature(applied.state, head.manifestBytes, head.signature);
      if (bad) throw new BundleRefused(bad.reason, bad.detail);
      const digest = payload.digest('hex');
      if (digest !== head.manifest.payload.sha256 || payloadSize !== head.manifest.payload.size) {
        throw new BundleRefused('hash-mismatch', 'the payload does not match the signed manifest');
      }
      const record: BundleRecord = {
        bundleId: `${head.manifest.version}-${head.manifest.arch}-${sha256.slice(0, 8)}`,
        sha256,
        size: bytes.length,
        manifest: head.manifest,
        path: path.join(dir, `${sha256}.bundle`),
        uploadedAt: Math.floor(this.options.clock() / 1000),
      };
      fs.renameSync(tmp, record.path);
      await repo.saveBundle(record);
      return record;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }
}
