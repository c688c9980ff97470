/** Whether a sign may install a bundle, decided from its manifest alone. */
import { compareVersions, type BundleManifest, type UpdateFailureReason } from '../update';

export interface SignFacts {
  installedVersion: string;
  hardware: string;
  arch: string;
  /** Bytes free where the slot is unpacked. */
  freeBytes: number;
}

export interface Refusal {
  reason: UpdateFailureReason;
  detail: string;
}

/** Room kept free beyond the slot, so an update never fills the disk the cache lives on. */
export const DISK_HEADROOM_BYTES = 32 * 1024 * 1024;

export function checkManifest(manifest: BundleManifest, sign: SignFacts): Refusal | null {
  if (compareVersions(manifest.version, sign.installedVersion) <= 0) {
    return {
      reason: 'downgrade',
      detail: `bundle ${manifest.version} is not newer than installed ${sign.installedVersion}`,
    };
  }
  if (compareVersions(sign.installedVersion, manifest.minVersion) < 0) {
    return {
      reason: 'below-minimum',
      detail: `bundle ${manifest.version} updates ${manifest.minVersion} or newer; installed is ${sign.installedVersion}`,
    };
  }
  if (!manifest.hardware.includes(sign.hardware)) {
    return {
      reason: 'wrong-hardware',
      detail: `bundle is for ${manifest.hardware.join(', ')}; this sign is ${sign.hardware}`,
    };
  }
  if (manifest.arch !== sign.arch) {
    return {
      reason: 'wrong-arch',
      detail: `bundle is for ${manifest.arch}; this sign is ${sign.arch}`,
    };
  }
  const needed = manifest.totalSize + DISK_HEADROOM_BYTES;
  if (needed > sign.freeBytes) {
    return {
      reason: 'too-large',
      detail: `slot needs ${needed} bytes with headroom; ${sign.freeBytes} free`,
    };
  }
  return null;
}
