/**
 * Factory provisioning: puts a signed bundle into slot a and points both links
 * at it, the way an image is flashed. The signature is checked like any update;
 * there is no installed version to compare with yet.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readBundleFile } from '../../shared/bundle/bundleArchive';
import { applyStatements, checkSignature } from '../../shared/bundle/trust';
import { installBundle } from './installer';
import type { Slots } from './slots';
import type { TrustStore } from './trustStore';

export async function provisionSlot(options: {
  bundle: string;
  slots: Slots;
  trust: TrustStore;
  hardware: string;
  nowMs: number;
}): Promise<string> {
  const head = await readBundleFile(options.bundle);
  const applied = applyStatements(options.trust.load(), head.trust);
  if (applied.failure) throw new Error(`${applied.failure.reason}: ${applied.failure.detail}`);
  const bad = checkSignature(applied.state, head.manifestBytes, head.signature);
  if (bad) throw new Error(`${bad.reason}: ${bad.detail}`);
  if (!head.manifest.hardware.includes(options.hardware)) {
    throw new Error(`bundle is for ${head.manifest.hardware.join(', ')}, not ${options.hardware}`);
  }
  options.trust.save(applied.state);
  fs.mkdirSync(path.join(options.slots.root, 'slots'), { recursive: true });
  await installBundle({
    file: options.bundle,
    manifest: head.manifest,
    slots: options.slots,
    slot: 'a',
    nowMs: options.nowMs,
  });
  options.slots.pointCurrentAt('a');
  options.slots.pointCommittedAt('a');
  return head.manifest.version;
}
