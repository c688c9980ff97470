/**
 * Random secrets and how they are kept. Session ids, API tokens, claim codes
 * and sign secrets carry 100-256 random bits, so a plain SHA-256 at rest is
 * enough (nothing to guess offline), and it is cheap: ten thousand signs
 * reconnecting after a broker restart must not cost ten thousand scrypt runs.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { formatClaimCode, normalizeClaimCode } from '../../shared';

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function newClaimCode(): string {
  return formatClaimCode(randomBytes(20));
}

export function claimCodeHash(code: string): string {
  return sha256Hex(`claim:${normalizeClaimCode(code)}`);
}

/** API tokens say what they are, so secret scanners and people recognise a leaked one. */
export const TOKEN_PREFIX = 'sst_';

export function newApiToken(): { token: string; tokenId: string } {
  const tokenId = randomBytes(6).toString('hex');
  return { token: `${TOKEN_PREFIX}${tokenId}_${randomSecret(32)}`, tokenId };
}
