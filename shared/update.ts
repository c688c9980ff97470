/**
 * Over-the-air updates: the bundle manifest, key statements, and the messages
 * between the manager and a sign's update agent. Shapes only, no I/O.
 *
 * Trust follows TUF's idea on a small scale: a manifest is signed with
 * Ed25519; a sign trusts a set of keys; a new key is introduced, or a key
 * revoked, by a numbered statement signed with a key the sign already trusts.
 */
import { z } from 'zod';
import { DEVICE_ID_PATTERN } from './topics';

/** Release versions are MAJOR.MINOR.PATCH, numbers only, so "newer" is never ambiguous. */
export const RELEASE_VERSION_PATTERN = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;
export const releaseVersion = z
  .string()
  .regex(RELEASE_VERSION_PATTERN, 'expected a release version MAJOR.MINOR.PATCH, e.g. 1.4.0');

/** Negative when a is older than b, zero when equal, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in lower-case hex');
const epochSeconds = z.number().int().nonnegative();
const updateDeviceId = z
  .string()
  .regex(DEVICE_ID_PATTERN, 'device id must be 1-64 of A-Z a-z 0-9 . _ -');
/** Board names, e.g. "led-192x64-v2"; a manifest lists every board it runs on. */
export const hardwareId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a board name');
export const bundleArch = z.enum(['x64', 'arm64']);
export type BundleArch = z.infer<typeof bundleArch>;

/** A relative path inside a slot: no absolute paths, no "..", no empty or dot segments. */
export const slotPath = z
  .string()
  .min(1)
  .max(400)
  .refine(
    (p) => !p.startsWith('/') && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'expected a relative path without "." or ".." segments',
  );

export const manifestFile = z.object({
  path: slotPath,
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  /** Executables (the Node.js binary, native helpers) keep their exec bit. */
  exec: z.boolean().default(false),
});
export type ManifestFile = z.infer<typeof manifestFile>;

export const bundleManifest = z.object({
  format: z.literal(1),
  version: releaseVersion,
  /** The oldest installed version this bundle may update; older signs need an intermediate release. */
  minVersion: releaseVersion,
  hardware: z.array(hardwareId).min(1).max(32),
  arch: bundleArch,
  /** Node.js release the bundle runs on; it ships inside the bundle. */
  runtime: z.object({ node: z.string().regex(/^\d+\.\d+\.\d+$/) }),
  createdAt: epochSeconds,
  releaseNotes: z.string().max(8000),
  /** The compressed payload archive as it sits in the bundle. */
  payload: z.object({ sha256: sha256Hex, size: z.number().int().nonnegative() }),
  /** Bytes the slot takes once unpacked: the sum of the file sizes. */
  totalSize: z.number().int().nonnegative(),
  files: z.array(manifestFile).min(1).max(100_000),
});
export type BundleManifest = z.output<typeof bundleManifest>;
export type BundleManifestInput = z.input<typeof bundleManifest>;

/** Key ids are the SHA-256 of the raw 32-byte Ed25519 public key, hex. */
export const keyId = sha256Hex;
export const publicKeyEntry = z.object({
  keyId,
  /** Raw Ed25519 public key, base64. */
  publicKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'expected a 32-byte key in base64'),
  name: z.string().max(100).optional(),
});
export type PublicKeyEntry = z.infer<typeof publicKeyEntry>;

export const signatureEntry = z.object({
  keyId,
  /** Ed25519 signature, base64 (64 bytes). */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'expected a 64-byte signature in base64'),
});
export type SignatureEntry = z.infer<typeof signatureEntry>;

/** What is signed in a key statement; sequence numbers make replays and reordering harmless. */
export const keyStatementBody = z.discriminatedUnion('action', [
  z.object({
    seq: z.number().int().positive(),
    action: z.literal('add'),
    key: publicKeyEntry,
    issuedAt: epochSeconds,
  }),
  z.object({
    seq: z.number().int().positive(),
    action: z.literal('revoke'),
    keyId,
    reason: z.string().max(200),
    issuedAt: epochSeconds,
  }),
]);
export type KeyStatementBody = z.infer<typeof keyStatementBody>;

/**
 * A statement travels as the exact signed bytes (base64) plus signatures, so
 * no re-serialisation can change what was signed. An "add" carries two: one
 * by a trusted key and one by the new key (proof it is held).
 */
export const keyStatement = z.object({
  body: z.string().min(1).max(4000),
  signatures: z.array(signatureEntry).min(1).max(4),
});
export type KeyStatement = z.infer<typeof keyStatement>;

export const trustChain = z.array(keyStatement).max(1000);

/** The trust file a sign is provisioned with and keeps up to date. */
export const trustState = z.object({
  /** Sequence number of the last statement applied; 0 on a fresh sign. */
  seq: z.number().int().nonnegative(),
  keys: z.array(publicKeyEntry),
  revoked: z.array(z.object({ keyId, seq: z.number().int().positive(), reason: z.string() })),
});
export type TrustState = z.infer<typeof trustState>;

/** Why a sign refused or abandoned an update; reported to the manager as is. */
export const updateFailureReason = z.enum([
  'bad-signature',
  'unknown-key',
  'revoked-key',
  'bad-key-statement',
  'hash-mismatch',
  'malformed-bundle',
  'downgrade',
  'below-minimum',
  'wrong-hardware',
  'wrong-arch',
  'too-large',
  'data-budget',
  'download-failed',
  'install-failed',
  'crashed-at-start',
  'health-check-failed',
  'canceled',
]);
export type UpdateFailureReason = z.infer<typeof updateFailureReason>;

/** manager → sign, retained on the device's update topic; an empty payload withdraws it. */
export const updateOfferData = z.object({
  deviceId: updateDeviceId,
  /** Unique per offer: a retry of a failed sign is a new offer. */
  offerId: z.string().min(1).max(64),
  rolloutId: z.string().min(1).max(64),
  version: releaseVersion,
  /** Where the bundle is served, with HTTP Range support. */
  url: z.string().url().max(2000),
  sha256: sha256Hex,
  size: z.number().int().positive(),
  /** Unpacked size, for the free-disk check before download. */
  totalSize: z.number().int().nonnegative(),
  issuedAt: epochSeconds,
});
export type UpdateOfferData = z.infer<typeof updateOfferData>;

export const UPDATE_PHASES = [
  'idle',
  'downloading',
  'verifying',
  'installing',
  'switching',
  'trial',
  'committed',
  'rolled-back',
  'failed',
] as const;
export const updatePhase = z.enum(UPDATE_PHASES);
export type UpdatePhase = z.infer<typeof updatePhase>;

export const updateOutcome = z.object({
  offerId: z.string().max(64),
  rolloutId: z.string().max(64),
  version: releaseVersion,
  result: z.enum(['committed', 'rolled-back', 'failed']),
  reason: updateFailureReason.optional(),
  detail: z.string().max(500).optional(),
  at: epochSeconds,
});
export type UpdateOutcome = z.infer<typeof updateOutcome>;

/** sign → manager, retained: where the agent is now and how its last update ended. */
export const updateStatusData = z.object({
  deviceId: updateDeviceId,
  phase: updatePhase,
  /** The committed version: what the sign boots. */
  installedVersion: releaseVersion,
  /** The version the running sign process reported after its start (health file). */
  bootedVersion: z.string().max(64).optional(),
  offerId: z.string().max(64).optional(),
  rolloutId: z.string().max(64).optional(),
  targetVersion: releaseVersion.optional(),
  attempt: z.number().int().nonnegative().optional(),
  downloadedBytes: z.number().int().nonnegative().optional(),
  totalBytes: z.number().int().nonnegative().optional(),
  lastOutcome: updateOutcome.optional(),
  updatedAt: epochSeconds,
});
export type UpdateStatusData = z.infer<typeof updateStatusData>;

/** sign → manager, not retained: one per state change, for the rollout's history. */
export const updateEventData = z.object({
  deviceId: updateDeviceId,
  offerId: z.string().max(64),
  rolloutId: z.string().max(64),
  from: updatePhase,
  to: updatePhase,
  version: releaseVersion,
  reason: updateFailureReason.optional(),
  detail: z.string().max(500).optional(),
  at: epochSeconds,
});
export type UpdateEventData = z.infer<typeof updateEventData>;

export const updateDataSchemas = {
  deviceUpdateOffer: updateOfferData,
  deviceUpdateStatus: updateStatusData,
  deviceUpdateEvent: updateEventData,
} as const;

export const updateMaxPayloadBytes = {
  deviceUpdateOffer: 8 * 1024,
  deviceUpdateStatus: 8 * 1024,
  deviceUpdateEvent: 4 * 1024,
} as const;
