/**
 * Verifying a downloaded bundle before anything is written to a slot: the
 * payload hash, key statements, the signature, then whether this sign may
 * take it at all.
 */
import crypto from 'node:crypto';
import type { BundleManifest, TrustState } from '../../shared';
import { BundleFormatError, readBundleFile } from '../../shared/bundle/bundleArchive';
import { checkManifest, type Refusal, type SignFacts } from '../../shared/bundle/policy';
import { applyStatements, checkSignature } from '../../shared/bundle/trust';

export type Verdict =
  | { ok: true; manifest: BundleManifest; trust: TrustState }
  /** trust: the key set after the statements that did verify, to keep even when refusing. */
  | { ok: false; refusal: Refusal; trust: TrustState };

export async function verifyBundle(
  file: string,
  trust: TrustState,
  facts: SignFacts,
): Promise<Verdict> {
  let payloadHash = '';
  let payloadSize = 0;
  let head;
  try {
    head = await readBundleFile(file, async (payload) => {
      const hash = crypto.createHash('sha256');
      for await (const chunk of payload) {
        hash.update(chunk);
        payloadSize += chunk.length;
      }
      payloadHash = hash.digest('hex');
    });
  } catch (err) {
    if (err instanceof BundleFormatError) {
      return { ok: false, refusal: { reason: 'malformed-bundle', detail: err.message }, trust };
    }
    throw err;
  }
  const applied = applyStatements(trust, head.trust);
  if (applied.failure) return { ok: false, refusal: applied.failure, trust: applied.state };
  const bad = checkSignature(applied.state, head.manifestBytes, head.signature);
  if (bad) return { ok: false, refusal: bad, trust: applied.state };
  const { manifest } = head;
  if (payloadHash !== manifest.payload.sha256 || payloadSize !== manifest.payload.size) {
    return {
      ok: false,
      refusal: {
        reason: 'hash-mismatch',
        detail: `payload is ${payloadSize} bytes with SHA-256 ${payloadHash.slice(0, 12)}, the manifest says ${manifest.payload.size} bytes, ${manifest.payload.sha256.slice(0, 12)}`,
      },
      trust: applied.state,
    };
  }
  const refusal = checkManifest(manifest, facts);
  if (refusal) return { ok: false, refusal, trust: applied.state };
  return { ok: true, manifest, trust: applied.state };
}
